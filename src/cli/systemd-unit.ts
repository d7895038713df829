/**
 * A systemd service unit for one foreground cluster (`rocket-cluster startup
 * systemd`), as text. Pure: the command gathers the facts, this writes them
 * in systemd's syntax (systemd.service(5) "Command lines", systemd.syntax(7)).
 */

export interface UnitSpec {
  /** The cluster's name (`--name`, or the app's file name). */
  readonly name: string;
  /** The app module (or the static directories), for the description. */
  readonly app: string;
  /** ExecStart's words: absolute node, absolute bin/rocket-cluster, `start`, the app and the start options. */
  readonly execStart: readonly string[];
  readonly workingDirectory: string;
  /** Variables for Environment=, in order. */
  readonly environment: readonly (readonly [string, string])[];
  /** Variables set here but not written into the unit (secrets). */
  readonly omitted: readonly string[];
  /** A unit for `systemd --user` (WantedBy=default.target) rather than the system manager. */
  readonly userUnit: boolean;
  /** `--user` given to `start` (the master drops to it after binding as root), or null. */
  readonly runAs: string | null;
  /** Milliseconds, from the resolved config. */
  readonly shutdownDelay: number;
  readonly shutdownTimeout: number;
  readonly drainTimeout: number;
  readonly startTimeout: number;
}

/** Seconds systemd waits past our own bounds before it kills: the master's own timers fire first. */
const MARGIN_S = 10;

/** Characters an ExecStart word may hold without quotes (after `%` and `$` are doubled). */
const PLAIN = /^[A-Za-z0-9_@%$+=:,./-]+$/;

/**
 * `%` starts a specifier wherever systemd reads a unit (`%%` is one `%`).
 * Inside double quotes, C escapes are read: backslash, quote and control
 * characters are escaped.
 */
function quoted(text: string): string {
  const body = text.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `"${body}"`;
}

/**
 * One word of ExecStart=, so that systemd passes it to the process exactly:
 * `%` and `$` doubled (specifiers and variable expansion, which systemd also
 * applies inside quotes), and quoted unless it is plain (empty words, spaces,
 * quotes, backslashes, `;` all need quotes).
 */
export function execWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return PLAIN.test(escaped) ? escaped : quoted(escaped);
}

/** One Environment= assignment, quoted: systemd reads C escapes and specifiers there, but expands no `$`. */
export function environmentWord(name: string, value: string): string {
  return quoted(`${name}=${value}`.replace(/%/g, '%%'));
}

/** A value written as the rest of a line (Description=, WorkingDirectory=): specifiers escaped, no line break possible. */
function lineValue(text: string): string {
  if (/[\n\r]/.test(text)) throw new Error(`a unit line cannot hold a line break: ${JSON.stringify(text)}`);
  return text.replace(/%/g, '%%');
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/** The unit's text. */
export function renderUnit(spec: UnitSpec): string {
  const stopS = seconds(spec.shutdownDelay + Math.max(spec.shutdownTimeout, spec.drainTimeout)) + MARGIN_S;
  const startS = seconds(spec.startTimeout) + MARGIN_S;
  const manager = spec.userUnit ? 'systemctl --user' : 'systemctl';
  const lines = [
    `# ${spec.userUnit ? 'A systemd user unit' : 'A systemd unit'} for the rocket-cluster cluster ${spec.name}, written by \`rocket-cluster startup systemd\`.`,
    spec.userUnit
      ? `# Install: save it as ~/.config/systemd/user/${spec.name}.service, then: ${manager} daemon-reload && ${manager} enable --now ${spec.name}`
      : `# Install: save it as /etc/systemd/system/${spec.name}.service, then: ${manager} daemon-reload && ${manager} enable --now ${spec.name}`,
    ...(spec.userUnit ? ['# To keep it running without a login session: loginctl enable-linger'] : []),
    '',
    '[Unit]',
    `Description=${lineValue(`rocket-cluster ${spec.name} (${spec.app})`)}`,
    ...(spec.userUnit ? [] : ['After=network.target']),
    '',
    '[Service]',
    '# The master says READY=1 once every address listens and the minimum of workers is ready,',
    '# RELOADING=1 then READY=1 around a reload, STOPPING=1, and a STATUS= line. It sends them',
    '# with systemd-notify, a child process of the master: hence NotifyAccess=all.',
    'Type=notify',
    'NotifyAccess=all',
    `ExecStart=${spec.execStart.map(execWord).join(' ')}`,
    '# SIGHUP: a rolling reload, one worker at a time; no connection is closed.',
    'ExecReload=/bin/kill -HUP $MAINPID',
    '# SIGTERM goes to the master alone, which stops its workers and monitor gracefully;',
    '# whatever is left when TimeoutStopSec runs out is killed.',
    'KillMode=mixed',
    `# ${seconds(spec.shutdownDelay)} s of --shutdown-delay, plus the longer of --shutdown-timeout (${seconds(spec.shutdownTimeout)} s)`,
    `# and --drain-timeout (${seconds(spec.drainTimeout)} s), plus ${MARGIN_S} s: the master's own bounds end a stop first.`,
    `TimeoutStopSec=${stopS}`,
    `# --start-timeout (${seconds(spec.startTimeout)} s) plus ${MARGIN_S} s: a start that fails does so in the master first.`,
    `TimeoutStartSec=${startS}`,
    'Restart=on-failure',
    `WorkingDirectory=${lineValue(spec.workingDirectory)}`,
    ...spec.environment.map(([name, value]) => `Environment=${environmentWord(name, value)}`),
    ...(spec.omitted.length > 0
      ? [`# Not written here (a unit file is readable by every user): ${spec.omitted.join(', ')}. Give it in a file only root`, `# may read: EnvironmentFile=/etc/rocket-cluster/${spec.name}.env`]
      : []),
    ...privileges(spec),
    '# Uncomment to have systemd restart a master whose event loop stops (pings every WatchdogSec/2):',
    '#WatchdogSec=30s',
    '',
    '[Install]',
    `WantedBy=${spec.userUnit ? 'default.target' : 'multi-user.target'}`,
    '',
  ];
  return lines.join('\n');
}

function privileges(spec: UnitSpec): string[] {
  if (spec.userUnit) return [];
  if (spec.runAs !== null) {
    return [
      `# No User=: the master starts as root to bind every address, then the monitor, the workers and the`,
      `# master itself run as ${lineValue(spec.runAs)} (--user in ExecStart), with no way back to root.`,
    ];
  }
  return ['# No User=: every process runs as root. Give --run-as USER to `rocket-cluster startup systemd` to drop to USER', '# once the addresses are bound.'];
}
