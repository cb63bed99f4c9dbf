/**
 * Mentions in a room message (docs/protocol-part2.md "Notifications"): `@all` addresses every
 * member, `@<username>` one member. A mention ends at the end of the text, at white space or at
 * punctuation, so `@ann` does not mention `anna`; it starts the text or follows white space or
 * an opening bracket, so `mail@ann` mentions nobody.
 */
const END = /^($|[\s,.:;!?'")\]}，。：；！？、）】])/u;
const START = /(^|[\s([{（【])$/u;

/** Whether `content` mentions `name` (`all` for `@all`, case-insensitively). */
export function mentions(content: string, name: string): boolean {
  const wanted = `@${name}`;
  const text = name === 'all' ? content.toLowerCase() : content;
  for (let at = text.indexOf(wanted); at !== -1; at = text.indexOf(wanted, at + 1)) {
    if (START.test(text.slice(0, at)) && END.test(text.slice(at + wanted.length))) return true;
  }
  return false;
}
