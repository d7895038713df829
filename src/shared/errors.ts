/**
 * Every error an operator can cause or see, as one table. Codes are stable:
 * scripts and docs refer to them (docs/ERRORS.md lists the same codes; a test
 * checks the two agree). Errors cross IPC as `{code, message}`.
 */
export const ERRORS = {
  RC_ERR_CONFIG_INVALID: 'an option has a bad value',
  RC_ERR_CONFIG_FILE: 'the config file is missing, ambiguous or cannot be loaded',
  RC_ERR_CONFIG_APP: 'the command line and config file do not say which one app to run',
  RC_ERR_CONFIG_TLS: 'a TLS certificate, key or setting cannot be used',
  RC_ERR_CONFIG_USER: 'the --user, --group or --socket-group does not exist, or cannot be switched to',
  RC_ERR_LISTEN_BIND: 'an address could not be bound',
  RC_ERR_APP_LOAD: 'the app module failed to load',
  RC_ERR_APP_SHAPE: 'the app module exports nothing rocket-cluster can serve',
  RC_ERR_IPC_TIMEOUT: 'a peer process did not acknowledge a message in time',
  RC_ERR_IPC_CLOSED: 'the IPC channel closed before a message was acknowledged',
  RC_ERR_WORKER_START: 'a worker failed to start',
  RC_ERR_MONITOR_START: 'the monitor failed to start',
  RC_ERR_LOG_FILES: 'log files cannot be written in the log directory',
  RC_ERR_CONTROL_DIR: 'the runtime directory for control sockets is not safe to use',
  RC_ERR_CONTROL_NAME_IN_USE: 'a cluster with this name is already running',
  RC_ERR_CONTROL_REQUEST: 'a control message was malformed, too large or not allowed',
  RC_ERR_CONTROL_NOT_RUNNING: 'no cluster with this name is running',
  RC_ERR_CONTROL_REFUSED: 'the cluster refused the command in its current state',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Error with a stable code, safe to show an operator and to send over IPC. */
export class RocketError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RocketError';
    this.code = code;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(x: string): x is ErrorCode {
  return Object.hasOwn(ERRORS, x);
}
