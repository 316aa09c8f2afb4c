import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs the `openssl` CLI; the error carries stderr because openssl's exit codes say nothing. */
export async function runOpenssl(args: string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync('openssl', args, {
      cwd: options.cwd,
      maxBuffer: 16 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr.trim() || String(err)}`, {
      cause: err,
    });
  }
}

export const TEST_SIGNER_NAMES = ['rsa', 'pss', 'ecdsa', 'weakRsa', 'expired', 'rogue'] as const;
export type TestSignerName = (typeof TEST_SIGNER_NAMES)[number];

export interface TestSigner {
  /** One of TestSignerName for the built-in signers; free-form for signers a test makes itself. */
  readonly name: string;
  readonly subject: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Issuer certificate(s) added with `-certfile` unless `includeIntermediate: false`. */
  readonly chainPem: string;
}

export interface TestSignOptions {
  /** RSA-PSS padding (`-keyopt rsa_padding_mode:pss`); the signer must hold an RSA key. */
  pss?: boolean;
  pssSaltLength?: number;
  /** `-noattr`: sign the content itself instead of signed attributes. */
  noAttributes?: boolean;
  digest?: 'sha256' | 'sha1' | 'sha384' | 'sha512';
  /** Default true: `-certfile <issuer chain>`. */
  includeIntermediate?: boolean;
  /** `-nocerts`: leave the signer certificate out of the CMS. */
  noCerts?: boolean;
  /** `-nosmimecap`: drop the S/MIME capabilities signed attribute. */
  noSmimeCapabilities?: boolean;
  /** Output path; default `<file>.<signer>.<n>.p7s` so repeated signing never overwrites. */
  out?: string;
}

export interface TestPki {
  readonly dir: string;
  /** PEM bundle holding only the trusted root. */
  readonly trustAnchorsPem: string;
  readonly rootPem: string;
  readonly rootKeyPem: string;
  readonly intermediatePem: string;
  readonly intermediateKeyPem: string;
  /** Untrusted root whose subject copies the trusted root's, so only signatures tell them apart. */
  readonly rogueRootPem: string;
  readonly signers: Readonly<Record<TestSignerName, TestSigner>>;
  /** Detached DER CMS signature of `filePath`; resolves to the `.p7s` path. */
  sign(
    filePath: string,
    signer: TestSignerName | TestSigner,
    opts?: TestSignOptions,
  ): Promise<string>;
  /** Writes `content` to a scratch file, signs it and returns the DER signature. */
  signBuffer(
    content: Buffer | string,
    signer: TestSignerName | TestSigner,
    opts?: Omit<TestSignOptions, 'out'>,
  ): Promise<Buffer>;
}

const ORG = 'SUP Test PKI';
const ROOT_SUBJECT = `/O=${ORG}/CN=SUP Test Root CA`;

const CA_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
].join('\n');
const INTERMEDIATE_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE,pathlen:0',
  'keyUsage=critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
].join('\n');
/** X.509 extensions of a code-signing leaf (what a vendor signer carries). */
export const SIGNER_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=codeSigning',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
].join('\n');

export type KeySpec = { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: string };

export async function generateKey(path: string, spec: KeySpec): Promise<void> {
  const args =
    spec.kind === 'rsa'
      ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.bits}`]
      : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${spec.curve}`];
  await runOpenssl(['genpkey', ...args, '-out', path]);
}

// Explicit random serials: `-CAcreateserial` shares one .srl file, which races when leaves are issued in parallel.
const randomSerial = (): string => `0x${randomBytes(16).toString('hex').replace(/^./, '4')}`;

async function selfSignedCa(
  dir: string,
  name: string,
  subject: string,
  key: string,
): Promise<string> {
  const cert = join(dir, `${name}.pem`);
  await runOpenssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    subject,
    '-sha256',
    '-days',
    '3650',
    '-set_serial',
    randomSerial(),
    '-extensions',
    'v3_sup',
    '-config',
    await reqConfig(dir, name, CA_EXTENSIONS),
    '-out',
    cert,
  ]);
  return cert;
}

// `req -x509` only reads extensions from a config section, so each CA gets a tiny config file.
async function reqConfig(dir: string, name: string, extensions: string): Promise<string> {
  const path = join(dir, `${name}.cnf`);
  await writeFile(
    path,
    `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n[v3_sup]\n${extensions}\n`,
  );
  return path;
}

/** Issues a certificate for `key` signed by the CA; `digest` lets tests make weak (sha1) signatures. */
export async function issueCertificate(opts: {
  dir: string;
  name: string;
  subject: string;
  key: string;
  caCert: string;
  caKey: string;
  extensions: string;
  days: number;
  digest?: string;
  caSigOpts?: string[];
}): Promise<string> {
  const csr = join(opts.dir, `${opts.name}.csr`);
  const ext = join(opts.dir, `${opts.name}.ext`);
  const cert = join(opts.dir, `${opts.name}.pem`);
  await writeFile(ext, opts.extensions);
  await runOpenssl(['req', '-new', '-key', opts.key, '-subj', opts.subject, '-out', csr]);
  await runOpenssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    opts.caCert,
    '-CAkey',
    opts.caKey,
    '-set_serial',
    randomSerial(),
    '-days',
    String(opts.days),
    `-${opts.digest ?? 'sha256'}`,
    ...(opts.caSigOpts ?? []),
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return cert;
}

// OpenSSL 3.0's `x509` cannot back-date, `ca -startdate/-enddate` can; it needs its own little database.
async function issueExpired(opts: {
  dir: string;
  name: string;
  subject: string;
  key: string;
  caCert: string;
  caKey: string;
}): Promise<string> {
  const db = join(opts.dir, `${opts.name}-ca`);
  await mkdir(db, { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'serial'), `${randomBytes(8).toString('hex').replace(/^./, '4')}\n`);
  const cnf = join(db, 'ca.cnf');
  await writeFile(
    cnf,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(db, 'index.txt')}`,
      `new_certs_dir = ${db}`,
      `serial = ${join(db, 'serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      'copy_extensions = none',
      '[policy_any]',
      'commonName = supplied',
      'organizationName = optional',
      '',
    ].join('\n'),
  );
  const csr = join(opts.dir, `${opts.name}.csr`);
  const ext = join(opts.dir, `${opts.name}.ext`);
  const cert = join(opts.dir, `${opts.name}.pem`);
  await writeFile(ext, SIGNER_EXTENSIONS);
  await runOpenssl(['req', '-new', '-key', opts.key, '-subj', opts.subject, '-out', csr]);
  await runOpenssl([
    'ca',
    '-batch',
    '-config',
    cnf,
    '-cert',
    opts.caCert,
    '-keyfile',
    opts.caKey,
    '-in',
    csr,
    '-out',
    cert,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20210101000000Z',
    '-extfile',
    ext,
    '-preserveDN',
    '-notext',
  ]);
  return cert;
}

/**
 * Builds a throw-away PKI in `dir` with the openssl CLI: trusted root (RSA 3072) -> intermediate
 * (EC P-384, signed with RSA-PSS so chain checks meet PSS certificates) -> code-signing leaves,
 * plus a rogue root + signer that must never be trusted.
 */
export async function createTestPki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const p = (file: string) => join(dir, file);

  const keys: Record<string, KeySpec> = {
    root: { kind: 'rsa', bits: 3072 },
    intermediate: { kind: 'ec', curve: 'P-384' },
    rogueRoot: { kind: 'rsa', bits: 2048 },
    rsa: { kind: 'rsa', bits: 2048 },
    pss: { kind: 'rsa', bits: 2048 },
    ecdsa: { kind: 'ec', curve: 'P-256' },
    weakRsa: { kind: 'rsa', bits: 1024 },
    expired: { kind: 'rsa', bits: 2048 },
    rogue: { kind: 'rsa', bits: 2048 },
  };
  await Promise.all(
    Object.entries(keys).map(([name, spec]) => generateKey(p(`${name}.key`), spec)),
  );

  const [rootPem, rogueRootPem] = await Promise.all([
    selfSignedCa(dir, 'root', ROOT_SUBJECT, p('root.key')),
    selfSignedCa(dir, 'rogueRoot', ROOT_SUBJECT, p('rogueRoot.key')),
  ]);
  const intermediatePem = await issueCertificate({
    dir,
    name: 'intermediate',
    subject: `/O=${ORG}/CN=SUP Test Intermediate CA`,
    key: p('intermediate.key'),
    caCert: rootPem,
    caKey: p('root.key'),
    extensions: INTERMEDIATE_EXTENSIONS,
    days: 3650,
    caSigOpts: ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'],
  });

  const subjectOf = (name: TestSignerName) => `/O=${ORG}/CN=SUP Test Signer ${name}`;
  const leaf = (name: TestSignerName, caCert: string, caKey: string) =>
    issueCertificate({
      dir,
      name,
      subject: subjectOf(name),
      key: p(`${name}.key`),
      caCert,
      caKey,
      extensions: SIGNER_EXTENSIONS,
      days: 825,
    });
  const intermediateKey = p('intermediate.key');
  const [rsa, pss, ecdsa, weakRsa, expired, rogue] = await Promise.all([
    leaf('rsa', intermediatePem, intermediateKey),
    leaf('pss', intermediatePem, intermediateKey),
    leaf('ecdsa', intermediatePem, intermediateKey),
    leaf('weakRsa', intermediatePem, intermediateKey),
    issueExpired({
      dir,
      name: 'expired',
      subject: subjectOf('expired'),
      key: p('expired.key'),
      caCert: intermediatePem,
      caKey: intermediateKey,
    }),
    leaf('rogue', rogueRootPem, p('rogueRoot.key')),
  ]);

  const trustAnchorsPem = p('trust-anchors.pem');
  await writeFile(trustAnchorsPem, await readFile(rootPem));

  const signer = (name: TestSignerName, certPem: string, chainPem: string): TestSigner => ({
    name,
    subject: subjectOf(name).slice(1).split('/').join(', '),
    certPem,
    keyPem: p(`${name}.key`),
    chainPem,
  });
  const signers: Record<TestSignerName, TestSigner> = {
    rsa: signer('rsa', rsa, intermediatePem),
    pss: signer('pss', pss, intermediatePem),
    ecdsa: signer('ecdsa', ecdsa, intermediatePem),
    weakRsa: signer('weakRsa', weakRsa, intermediatePem),
    expired: signer('expired', expired, intermediatePem),
    rogue: signer('rogue', rogue, rogueRootPem),
  };

  let counter = 0;
  const resolveSigner = (s: TestSignerName | TestSigner): TestSigner =>
    typeof s === 'string' ? signers[s] : s;

  const sign = async (
    filePath: string,
    who: TestSignerName | TestSigner,
    opts: TestSignOptions = {},
  ): Promise<string> => {
    const s = resolveSigner(who);
    const out = opts.out ?? `${filePath}.${s.name}.${++counter}.p7s`;
    const args = ['cms', '-sign', '-binary', '-outform', 'DER', '-md', opts.digest ?? 'sha256'];
    args.push('-signer', s.certPem, '-inkey', s.keyPem);
    if (opts.includeIntermediate ?? true) args.push('-certfile', s.chainPem);
    if (opts.pss) args.push('-keyopt', 'rsa_padding_mode:pss');
    if (opts.pss && opts.pssSaltLength !== undefined) {
      args.push('-keyopt', `rsa_pss_saltlen:${opts.pssSaltLength}`);
    }
    if (opts.noAttributes) args.push('-noattr');
    if (opts.noCerts) args.push('-nocerts');
    if (opts.noSmimeCapabilities) args.push('-nosmimecap');
    args.push('-in', filePath, '-out', out);
    await runOpenssl(args);
    return out;
  };

  const scratch = p('scratch');
  await mkdir(scratch, { recursive: true });
  const signBuffer = async (
    content: Buffer | string,
    who: TestSignerName | TestSigner,
    opts: Omit<TestSignOptions, 'out'> = {},
  ): Promise<Buffer> => {
    const file = join(scratch, `content-${++counter}.bin`);
    await writeFile(file, content);
    return readFile(await sign(file, who, opts));
  };

  return {
    dir,
    trustAnchorsPem,
    rootPem,
    rootKeyPem: p('root.key'),
    intermediatePem,
    intermediateKeyPem: intermediateKey,
    rogueRootPem,
    signers,
    sign,
    signBuffer,
  };
}
