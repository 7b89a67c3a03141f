/**
 * Text from outside (file names above all) made safe to print: control characters, terminal
 * escape sequences among them, are shown escaped (`\x1b`, `\n`) instead of acting on the
 * terminal or breaking a line-per-result output.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const escapeControl = (char: string) => NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** `text` with every control character escaped: for one line of output. */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** `text` with control characters escaped but its line breaks kept: for messages of several lines. */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}
