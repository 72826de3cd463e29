/**
 * Integer ids beyond 2^53. JSON.parse turns `12345678901234567890` into the nearest double,
 * 12345678901234567000, so an output would carry an id its input never had. The decoder
 * asks here for the id's text as the producer wrote it; the record then holds that text as
 * a string — the same rule the tf.train.Example decoder applies to int64 values past 2^53 —
 * and every output (predictions, errors, the sink, the dashboard) carries it unchanged.
 */

/** The source text of the top-level `id` member's value when it is a number token (the last one wins, as in JSON.parse). */
export function topLevelIdNumberText(json: string): string | undefined {
  let depth = 0;
  let found: string | undefined;
  let i = 0;
  while (i < json.length) {
    const c = json[i]!;
    if (c === '"') {
      const end = stringEnd(json, i);
      if (depth === 1 && isIdKey(json.slice(i, end))) {
        let j = end;
        while (/\s/.test(json[j] ?? '')) j++;
        if (json[j] === ':') {
          j++;
          while (/\s/.test(json[j] ?? '')) j++;
          const number = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(json.slice(j, j + 400));
          if (number) found = number[0];
          else found = undefined;
        }
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return found;
}

/** The index just past the string token starting at `start` (a quote). */
function stringEnd(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length) {
    if (json[i] === '\\') i += 2;
    else if (json[i] === '"') return i + 1;
    else i++;
  }
  return i;
}

function isIdKey(token: string): boolean {
  if (token === '"id"') return true;
  if (!token.includes('\\')) return false;
  try {
    return JSON.parse(token) === 'id';
  } catch {
    return false;
  }
}
