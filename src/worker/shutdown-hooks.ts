import { flushLogs, type ChildLog } from '../shared/child-log.js';

/** The signals apps (PM2's users first) listen for to close their pools before they exit. */
export type ExitSignal = 'SIGINT' | 'SIGTERM';

type Listener = (...args: unknown[]) => unknown;
type Register = (event: string | symbol, listener: Listener) => NodeJS.Process;

const SIGNALS: readonly ExitSignal[] = ['SIGINT', 'SIGTERM'];

function isExitSignal(event: string | symbol): event is ExitSignal {
  return event === 'SIGINT' || event === 'SIGTERM';
}

/**
 * What the app asked to run before its worker exits (docs/APP-LIFECYCLE.md):
 * an exported `onShutdown()` (or `close()`), and the SIGINT/SIGTERM listeners
 * it registers itself, as under PM2: `process.on('SIGINT', () => {
 * db.close(); process.exit(0) })`.
 *
 * Those listeners are kept here rather than on the process, for two reasons.
 * The master stops a worker over IPC, so no signal would ever call them. And
 * when a signal does reach the worker (Ctrl-C and systemd signal the whole
 * process group), Node would call them at once, next to the worker's own drain,
 * and their process.exit(0) would cut off the requests in flight. Here they
 * run once the worker has drained, and a process.exit they call means "done".
 */
export class ShutdownHooks {
  readonly #app: string;
  readonly #log: ChildLog;
  readonly #listeners: Record<ExitSignal, Listener[]> = { SIGINT: [], SIGTERM: [] };
  #exported: { readonly name: string; readonly hook: Listener } | null = null;
  #ran = false;

  constructor(app: string, log: ChildLog) {
    this.#app = app;
    this.#log = log;
  }

  /**
   * From now on, SIGINT and SIGTERM listeners added to `process` (on, once,
   * addListener, prepend…) are kept here, and removed from here. Called after
   * the worker's own listeners are in place and before the app is loaded.
   */
  divertSignalListeners(): void {
    const kept = this.#listeners;
    const adding = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const;
    for (const method of adding) {
      const original = (process[method] as Register).bind(process);
      (process[method] as Register) = (event, listener) => {
        if (!isExitSignal(event)) return original(event, listener);
        kept[event].push(listener);
        return process;
      };
    }
    for (const method of ['off', 'removeListener'] as const) {
      const original = (process[method] as Register).bind(process);
      (process[method] as Register) = (event, listener) => {
        if (!isExitSignal(event)) return original(event, listener);
        const at = kept[event].lastIndexOf(listener);
        if (at >= 0) kept[event].splice(at, 1);
        return process;
      };
    }
    const removeAll = process.removeAllListeners.bind(process);
    // The worker's own listeners stay: without them a signal would kill it mid-request.
    process.removeAllListeners = (event?: string | symbol) => {
      if (event !== undefined && isExitSignal(event)) kept[event].length = 0;
      else removeAll(event);
      return process;
    };
  }

  /** The module's exported hook: `onShutdown`, or else `close`, if it is a function. */
  useExports(exports: Readonly<Record<string, unknown>>): void {
    for (const name of ['onShutdown', 'close']) {
      const hook = exports[name];
      if (typeof hook === 'function') {
        this.#exported = { name, hook: hook as Listener };
        return;
      }
    }
  }

  /**
   * Runs the app's hooks, once: the exported one, then the listeners of
   * `signal` (the one received; for a leave the master asked for, SIGTERM), or
   * of the other exit signal if the app has none for that one, called in order
   * as Node would. The hook is done when the first of these comes:
   * - its promises have settled: the exported hook's, and every listener's if
   *   each returned one (a listener that returns nothing ends with process.exit);
   * - the app calls process.exit (the listeners after it are not called);
   * - nothing is left to run ('beforeExit': the worker's own handles are
   *   unref'd meanwhile), where a plain `node app.js` would exit by itself;
   * - `withinMs` have passed: logged as an overrun, naming the app.
   * Resolves, never rejects: a hook that throws is logged, naming the app, and
   * the worker exits anyway.
   */
  async run(signal: ExitSignal | null, withinMs: number): Promise<void> {
    if (this.#ran) return;
    this.#ran = true;
    const wanted = signal ?? 'SIGTERM';
    const other = SIGNALS.find((s) => s !== wanted)!;
    const chosen = this.#listeners[wanted].length > 0 ? wanted : other;
    const listeners = [...this.#listeners[chosen]];
    const exported = this.#exported;
    if (!exported && listeners.length === 0) return;
    const hooks = [...(exported ? [`${exported.name}()`] : []), ...(listeners.length > 0 ? [`${listeners.length} ${chosen} listener(s)`] : [])];
    this.#log.info({ app: this.#app, hooks, withinMs }, 'running the app shutdown hook');

    const realExit = process.exit;
    let exited = false;
    let exitCalled!: () => void;
    const exitedNow = new Promise<'exit'>((resolve) => (exitCalled = () => resolve('exit')));
    // Typed `never` in Node's types, but this one returns: the hook's own code goes on to its end.
    process.exit = ((code?: number | string | null) => {
      exited = true;
      this.#log.debug({ app: this.#app, code }, 'the app shutdown hook called process.exit: hook done');
      exitCalled();
    }) as typeof process.exit;
    let overrun!: () => void;
    const overran = new Promise<'timeout'>((resolve) => (overrun = () => resolve('timeout')));
    let onIdle!: () => void;
    const idle = new Promise<'idle'>((resolve) => (onIdle = () => resolve('idle')));
    // Only the app's own work may keep the process alive now: the deadline, the master's channel and the
    // heartbeat (already unref'd) must not, or 'beforeExit' would never come.
    const timer = setTimeout(overrun, withinMs).unref();
    process.channel?.unref();
    process.once('beforeExit', onIdle);

    const all = async (): Promise<'done'> => {
      if (exported) await this.#settle(`${exported.name}()`, () => exported.hook(wanted));
      const returned: Promise<boolean>[] = [];
      for (const listener of listeners) {
        if (exited) break; // as after a real process.exit: the listeners after it never run
        returned.push(this.#settle(`${chosen} listener`, () => listener(chosen), (r) => r instanceof Promise));
      }
      const settled = await Promise.all(returned);
      // A listener that returned no promise says it is done by calling process.exit, or by leaving nothing to run.
      if (settled.some((promised) => !promised)) await new Promise(() => {});
      return 'done';
    };
    try {
      const outcome = await Promise.race([all(), exitedNow, idle, overran]);
      if (outcome === 'timeout') {
        this.#log.error(
          { app: this.#app, hooks, withinMs },
          `shutdown hook of app ${this.#app} did not finish within ${withinMs} ms (what --drain-timeout, or in a stop --shutdown-timeout, left it): the worker exits without waiting for it`,
        );
      } else {
        this.#log.info({ app: this.#app, hooks, how: outcome }, 'the app shutdown hook finished');
      }
    } finally {
      clearTimeout(timer);
      process.off('beforeExit', onIdle);
      process.exit = realExit;
      flushLogs();
    }
  }

  /**
   * Calls one hook and waits for what it returns; a throw or a rejection is
   * logged, naming the app, and counts as finished. Resolves with `promised`
   * of what it returned (true by default).
   */
  async #settle(what: string, call: () => unknown, promised: (returned: unknown) => boolean = () => true): Promise<boolean> {
    try {
      const returned = call();
      await returned;
      return promised(returned);
    } catch (error) {
      this.#log.error({ app: this.#app, hook: what, err: error }, `shutdown hook ${what} of app ${this.#app} failed: ${error instanceof Error ? error.message : String(error)}`);
      return true;
    }
  }
}
