import forge from 'node-forge';
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, sign as signBytes, X509Certificate } from 'node:crypto';
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

/** A CA a test made (see TestPki.issueCa); `chainPem` is what a leaf it issues adds to a CMS. */
export interface TestCa {
  readonly name: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly chainPem: string;
}

export interface TestCrlOptions {
  /** PEM paths of the certificates to list as revoked. */
  revoked?: readonly string[];
  /** Default: an hour ago. */
  thisUpdate?: Date;
  /** Default: in a day; `null` leaves the field out. */
  nextUpdate?: Date | null;
  /** Also write the DER here. */
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
  /**
   * A new EC P-256 signer issued by the intermediate (or `issuer`) with `extensions` (default
   * SIGNER_EXTENSIONS; see SIGNER_EXTENSION_VARIANTS for the ones a strict policy refuses).
   */
  issueSigner(name: string, opts?: { extensions?: string; issuer?: TestCa }): Promise<TestSigner>;
  /** A new intermediate CA issued by the root, with `extensions` (default a normal CA's). */
  issueCa(name: string, opts?: { extensions?: string }): Promise<TestCa>;
  /** A CRL (DER) signed by `issuer`'s key, listing `revoked`; built with forge's ASN.1, signed by node:crypto. */
  makeCrl(issuer: 'root' | 'intermediate' | TestCa, opts?: TestCrlOptions): Promise<Buffer>;
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

/** Leaves a strict signer policy refuses (certificate-wrong-usage), and one it accepts. */
export const SIGNER_EXTENSION_VARIANTS = {
  noEku: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'].join('\n'),
  anyEku: [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=anyExtendedKeyUsage',
  ].join('\n'),
  noDigitalSignature: [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,nonRepudiation',
    'extendedKeyUsage=codeSigning',
  ].join('\n'),
  noKeyUsage: ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=codeSigning'].join('\n'),
  strict: SIGNER_EXTENSIONS,
} as const;

/** CA extensions without keyCertSign (keyUsage cRLSign only), and without any keyUsage. */
export const CA_EXTENSION_VARIANTS = {
  noKeyCertSign: [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,cRLSign',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ].join('\n'),
  noKeyUsage: [
    'basicConstraints=critical,CA:TRUE',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ].join('\n'),
} as const;

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

  let issued = 0;
  /** An EC P-256 key and a certificate for it named CN=<name>, issued by `ca`. */
  const issueMade = async (
    name: string,
    ca: { certPem: string; keyPem: string },
    extensions: string,
    days: number,
  ) => {
    const file = `made-${++issued}`;
    const keyPem = p(`${file}.key`);
    await generateKey(keyPem, { kind: 'ec', curve: 'P-256' });
    const certPem = await issueCertificate({
      dir,
      name: file,
      subject: `/O=${ORG}/CN=${name}`,
      key: keyPem,
      caCert: ca.certPem,
      caKey: ca.keyPem,
      extensions,
      days,
    });
    return { certPem, keyPem };
  };
  const issueSigner: TestPki['issueSigner'] = async (name, opts = {}) => {
    const issuer = opts.issuer ?? { certPem: intermediatePem, keyPem: intermediateKey };
    const made = await issueMade(name, issuer, opts.extensions ?? SIGNER_EXTENSIONS, 825);
    const chainPem = opts.issuer?.chainPem ?? intermediatePem;
    return { name, subject: `O=${ORG}, CN=${name}`, ...made, chainPem };
  };
  const issueCa: TestPki['issueCa'] = async (name, opts = {}) => {
    const root = { certPem: rootPem, keyPem: p('root.key') };
    const made = await issueMade(name, root, opts.extensions ?? INTERMEDIATE_EXTENSIONS, 3650);
    return { name, ...made, chainPem: made.certPem };
  };
  const makeCrl: TestPki['makeCrl'] = async (issuer, opts = {}) => {
    const ca =
      issuer === 'root'
        ? { certPem: rootPem, keyPem: p('root.key') }
        : issuer === 'intermediate'
          ? { certPem: intermediatePem, keyPem: intermediateKey }
          : issuer;
    const der = await buildCrl(ca.certPem, ca.keyPem, opts);
    if (opts.out) await writeFile(opts.out, der);
    return der;
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
    issueSigner,
    issueCa,
    makeCrl,
  };
}

const { asn1 } = forge;
const der = (node: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
const seq = (items: forge.asn1.Asn1[]) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const oidNode = (oid: string) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes());
const integerNode = (hex: string) => {
  const even = hex.length % 2 ? `0${hex}` : hex;
  const bytes = /^[89a-f]/i.test(even) ? `00${even}` : even;
  return asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.INTEGER,
    false,
    Buffer.from(bytes, 'hex').toString('binary'),
  );
};
const octetNode = (bytes: Buffer) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));

/** The keyIdentifier (binary string) of a TBSCertificate's subjectKeyIdentifier, if any. */
function subjectKeyIdentifier(fields: forge.asn1.Asn1[]): string | undefined {
  const extensions = fields.find(
    (f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && Number(f.type) === 3,
  );
  const list = ((extensions?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value ??
    []) as forge.asn1.Asn1[];
  for (const extension of list) {
    const parts = extension.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0].value as string) !== '2.5.29.14') continue;
    const inner = asn1.fromDer(parts[parts.length - 1].value as string);
    return inner.value as string;
  }
  return undefined;
}

const timeNode = (date: Date) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));

/**
 * RFC 5280 CertificateList: v2, issuer copied byte for byte from the issuer certificate, a
 * cRLNumber, signed with SHA-256 by the issuer's RSA or EC key. node-forge cannot make CRLs, so
 * the structure is assembled here; the signature is node:crypto's.
 */
async function buildCrl(certPem: string, keyPem: string, opts: TestCrlOptions): Promise<Buffer> {
  const cert = new X509Certificate(await readFile(certPem));
  const tbsCert = asn1.fromDer(forge.util.createBuffer(cert.raw.toString('binary'))).value[0];
  const fields = (tbsCert as forge.asn1.Asn1).value as forge.asn1.Asn1[];
  const subject = fields[fields[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 5 : 4];
  const keyId = subjectKeyIdentifier(fields);
  const key = createPrivateKey(await readFile(keyPem));
  const algorithm = seq(
    key.asymmetricKeyType === 'ec'
      ? [oidNode('1.2.840.10045.4.3.2')]
      : [
          oidNode('1.2.840.113549.1.1.11'),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
        ],
  );
  const now = Date.now();
  const revoked = await Promise.all(
    (opts.revoked ?? []).map(async (path) => {
      const serial = new X509Certificate(await readFile(path)).serialNumber;
      return seq([integerNode(serial), timeNode(new Date(now - 60_000))]);
    }),
  );
  const nextUpdate = opts.nextUpdate === undefined ? new Date(now + 86_400_000) : opts.nextUpdate;
  const crlNumber = seq([oidNode('2.5.29.20'), octetNode(der(integerNode(now.toString(16))))]);
  // authorityKeyIdentifier { [0] keyIdentifier }, as openssl writes it: says which key signed.
  const aki = keyId
    ? [
        seq([
          oidNode('2.5.29.35'),
          octetNode(der(seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyId)]))),
        ]),
      ]
    : [];
  const tbs = seq([
    integerNode('01'),
    algorithm,
    subject,
    timeNode(opts.thisUpdate ?? new Date(now - 3_600_000)),
    ...(nextUpdate ? [timeNode(nextUpdate)] : []),
    ...(revoked.length > 0 ? [seq(revoked)] : []),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [seq([...aki, crlNumber])]),
  ]);
  const tbsDer = der(tbs);
  const signature = signBytes('sha256', tbsDer, key);
  const bits = asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.BITSTRING,
    false,
    `\0${signature.toString('binary')}`,
  );
  return der(seq([tbs, algorithm, bits]));
}
