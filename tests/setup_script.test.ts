// scripts/setup.sh names no package-registry host: it takes Debian backports from the archive the
// machine's apt sources already use (scripts/debian-mirror.sh), read from fixture apt directories here.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

function mirrorFor(files: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const etc = mkdtempSync(join(tmpdir(), 'webgrad-apt-'));
  mkdirSync(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  const r = spawnSync('bash', ['scripts/debian-mirror.sh', 'bookworm'], { encoding: 'utf8', env: { ...process.env, APT_ETC: etc } });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

const stanza = (lines: string[]) => `${lines.join('\n')}\n`;

test.each([
  [
    'deb822, security archive first, comments inside stanzas',
    {
      'sources.list.d/debian.sources': [
        stanza(['Types: deb', '# a snapshot comment', 'URIs: http://mirror.example/debian-security', 'Suites: bookworm-security', 'Components: main']),
        stanza(['Types: deb', '# a snapshot comment', 'URIs: http://mirror.example/debian/', 'Suites: bookworm bookworm-updates', 'Components: main']),
      ].join('\n'),
    },
    'http://mirror.example/debian',
  ],
  [
    'deb822, a disabled stanza and a source-only one are skipped',
    {
      'sources.list.d/a.sources': [
        stanza(['Enabled: no', 'Types: deb', 'URIs: http://disabled.example/debian', 'Suites: bookworm', 'Components: main']),
        stanza(['Types: deb-src', 'URIs: http://source.example/debian', 'Suites: bookworm', 'Components: main']),
        stanza(['types: deb deb-src', 'uris: http://first.example/debian http://second.example/debian', 'suites: bookworm', 'components: main']),
      ].join('\n'),
    },
    'http://first.example/debian',
  ],
  [
    'one-line sources.list with options',
    {
      'sources.list':
        '# deb http://commented.example/debian bookworm main\ndeb-src http://src.example/debian bookworm main\n' +
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://one-line.example/debian bookworm main contrib\n',
    },
    'http://one-line.example/debian',
  ],
  [
    'one-line list in sources.list.d, options with spaces',
    {
      'sources.list.d/debian.list': 'deb [ arch=amd64 ] http://spaced.example/debian bookworm main\n',
    },
    'http://spaced.example/debian',
  ],
  [
    'deb822 is preferred over one-line lists',
    {
      'sources.list': 'deb http://one-line.example/debian bookworm main\n',
      'sources.list.d/debian.sources': stanza(['Types: deb', 'URIs: http://deb822.example/debian', 'Suites: bookworm', 'Components: main']),
    },
    'http://deb822.example/debian',
  ],
])('the mirror comes from the apt sources: %s', (_, files, mirror) => {
  const r = mirrorFor(files);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(mirror);
});

test.each([
  ['no sources at all', {}],
  [
    'only other suites',
    {
      'sources.list': 'deb http://mirror.example/debian bookworm-updates main\ndeb http://mirror.example/debian-security bookworm-security main\n',
      'sources.list.d/old.sources': stanza(['Types: deb', 'URIs: http://mirror.example/debian', 'Suites: bullseye', 'Components: main']),
    },
  ],
])('no archive for the release is a clear error: %s', (_, files) => {
  const r = mirrorFor(files);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/no Debian archive for bookworm in .*sources\.list\.d\/\*\.sources/);
});

test('the setup scripts name no host', () => {
  for (const file of ['scripts/setup.sh', 'scripts/debian-mirror.sh']) {
    expect(readFileSync(file, 'utf8'), file).not.toMatch(/[a-z]+:\/\/|deb\.debian\.org|registry\./);
  }
});
