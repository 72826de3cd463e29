import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface Pki {
  caFile: string;
  caPem: string;
  otherCaFile: string;
  serverKey: string;
  serverCert: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate (CN mlstream-client), made with openssl in `dir`. */
export function makePki(dir: string): Pki {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  const leaf = (name: string, ext?: string): void => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    const extArgs = ext ? ['-extfile', ext] : [];
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, ...extArgs);
  };
  ca('ca');
  ca('other-ca');
  execFileSync('sh', ['-c', 'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  leaf('localhost', 'san.ext');
  leaf('mlstream-client');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    caFile: join(dir, 'ca.pem'),
    caPem: read('ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverKey: read('localhost.key'),
    serverCert: read('localhost.pem'),
    clientCertFile: join(dir, 'mlstream-client.pem'),
    clientKeyFile: join(dir, 'mlstream-client.key'),
  };
}
