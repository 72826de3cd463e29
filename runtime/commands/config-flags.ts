import { Option, type Command } from 'commander';
import { CONFIG_ENTRIES, type ConfigKey } from '../config.js';

/**
 * The configuration entries as command-line flags, the same on every command: each shows
 * its environment variable and default in --help, common ones have a short form, and
 * on/off settings are switches. Only flags typed on the command line override the
 * environment, so a switch's implied default never hides KAFKA_SSL=true.
 */

/** Short forms of the flags people type most. */
const SHORT: Partial<Record<ConfigKey, string>> = {
  brokers: '-b',
  groupId: '-g',
  modelsDir: '-m',
  httpPort: '-p',
  logLevel: '-l',
};

/** On/off settings: `--ssl` turns TLS on, `--no-ssl-verify` turns certificate checks off. */
const SWITCHES: Partial<Record<ConfigKey, { flag: string; value: string }>> = {
  ssl: { flag: '--ssl', value: 'true' },
  sslRejectUnauthorized: { flag: '--no-ssl-verify', value: 'false' },
};

/** The Kafka connection settings every command that talks to Kafka takes. */
export const CONNECTION_KEYS: ConfigKey[] = ['brokers', 'clientId', 'ssl', 'sslCaFile', 'sslCertFile', 'sslKeyFile', 'sslRejectUnauthorized', 'saslMechanism', 'saslUsername', 'saslPassword'];

/** Adds the flags of `keys` (all settings by default), each with its env variable and default shown in --help. */
export function withConfigFlags(cmd: Command, keys: ConfigKey[] = Object.keys(CONFIG_ENTRIES) as ConfigKey[]): Command {
  for (const key of keys) {
    const e = CONFIG_ENTRIES[key];
    const sw = SWITCHES[key];
    if (sw) {
      cmd.addOption(new Option(sw.flag, `${e.help.replace(/: true \| false$/, '')} [env ${e.env}=${sw.value}]`));
      continue;
    }
    const short = SHORT[key];
    // The default is text in the description: as an option default it would hide the env variable.
    const opt = new Option(`${short ? `${short}, ` : ''}--${e.flag} <value>`, `${e.help} [env ${e.env}${e.default !== undefined ? `, default ${e.default}` : ''}]`);
    // A repeated --plugin collects its values, like the comma-separated env variable.
    if (key === 'plugins') opt.argParser((v: string, prev?: string) => (prev ? `${prev},${v}` : v));
    cmd.addOption(opt);
  }
  return cmd;
}

/** The settings typed on this command's line, keyed like CONFIG_ENTRIES. */
export function flagsOf(cmd: Command): Partial<Record<ConfigKey, string>> {
  const opts = cmd.opts<Record<string, string | boolean | undefined>>();
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(CONFIG_ENTRIES) as ConfigKey[]) {
    const sw = SWITCHES[key];
    const name = attributeName(sw ? sw.flag : `--${CONFIG_ENTRIES[key].flag}`);
    if (cmd.getOptionValueSource(name) !== 'cli') continue;
    const v = opts[name];
    if (sw) flags[key] = sw.value;
    else if (typeof v === 'string') flags[key] = v;
  }
  return flags;
}

function attributeName(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
