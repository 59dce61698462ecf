const MAKE_ANOTHER = 'npm run ledger -- keys create --name <name> --role <role>';

/**
 * The first admin key, as printed once at the end of the first start: at a terminal in a box, so it
 * stands out as the last thing on the screen; elsewhere (a log collector) as plain lines. Either way with
 * the command that makes another key, since this one cannot be shown again.
 */
export function adminKeyNotice(key: string, terminal: boolean): string {
  if (!terminal) {
    return (
      `\nCreated the first admin API key (shown once, store it now):\n\n  ${key}\n\n` +
      `Create more with: ${MAKE_ANOTHER}\n\n`
    );
  }
  const lines = [
    'The first admin API key. It is shown only now (only its SHA-256 is',
    'stored): store it somewhere safe.',
    '',
    `  ${key}`,
    '',
    'Make another key (roles: service, agent, auditor, analyst, admin):',
    `  ${MAKE_ANOTHER}`,
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const border = '─'.repeat(width + 2);
  return `\n┌${border}┐\n` + lines.map((line) => `│ ${line.padEnd(width)} │\n`).join('') + `└${border}┘\n\n`;
}
