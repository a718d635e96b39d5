import { goQuote } from './go-format.js';
import type { LogEntry } from './spans.js';

/**
 * containerd's log lines on stderr: logrus' TextFormatter with full RFC 3339
 * timestamps, e.g.
 *   time="2025-06-01T10:00:00.123456789Z" level=info msg="StartContainer for \"3f2a…\""
 * Values are quoted only when they hold characters outside logrus' safe set.
 */
export function needsQuoting(text: string): boolean {
  if (text === '') return true;
  return !/^[A-Za-z0-9\-._/@^+]+$/.test(text);
}

function value(text: string): string {
  return needsQuoting(text) ? goQuote(text) : text;
}

/** One line, without the newline. Fields follow msg in key order, as logrus sorts them. */
export function formatLogLine(time: Date, entry: LogEntry): string {
  const parts = [`time=${value(time.toISOString())}`, `level=${entry.level}`, `msg=${value(entry.message)}`];
  const fields: Record<string, string> = { ...entry.fields, ...(entry.error === undefined ? {} : { error: entry.error }) };
  for (const key of Object.keys(fields).sort()) parts.push(`${key}=${value(fields[key] as string)}`);
  return parts.join(' ');
}
