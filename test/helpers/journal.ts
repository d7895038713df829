import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.js';

/** One line the lifecycle fixtures (test/fixtures/lifecycle-*.mjs) appended: what happened, in which worker. */
export interface JournalEntry {
  /** The words before `pid=`: "started", "hook start SIGTERM", "closed pool onShutdown", "request end"… */
  readonly what: string;
  readonly pid: number;
  readonly slot: string;
  readonly instance: string;
}

/** A fresh journal path (LIFECYCLE_FILE for the fixtures) and a reader of its entries; removed when the test ends. */
export function newJournal(): { readonly file: string; read(): JournalEntry[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-journal-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'journal.txt');
  return {
    file,
    read() {
      if (!fs.existsSync(file)) return [];
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((line) => {
          const field = (name: string) => new RegExp(`${name}=(\\S*)`).exec(line)?.[1] ?? '';
          return { what: line.slice(0, line.indexOf(' pid=')), pid: Number(field('pid')), slot: field('slot'), instance: field('instance') };
        });
    },
  };
}

/** What one worker's journal says, in order. */
export function entriesOf(entries: readonly JournalEntry[], pid: number): string[] {
  return entries.filter((e) => e.pid === pid).map((e) => e.what);
}
