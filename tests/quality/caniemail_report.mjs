// Reports the HTML and CSS features of an email that some clients do not support, using the
// `caniemail` npm package (its own detection, its caniemail.com data).
// stdin: {"html": "...", "clients": ["gmail.ios", ...], "titles": ["@media (prefers-color-scheme)", ...],
//         "blocks": [{"css": "...", "requires": ["@media", "@media (prefers-color-scheme)"]}, ...]}
//   titles: features found by the caller (media features), looked up in the same data
//   blocks: the insides of @media/@supports blocks, which caniemail does not enter; each is checked
//           only for the clients that support what its block requires (the others never apply it)
// stdout: {"version": "...", "issues": [{"client", "title", "support": "none"|"partial", "line", "notes", "source"}]}
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { caniemail, getAllFeatures } from 'caniemail';

const request = JSON.parse(readFileSync(0, 'utf8'));
const version = createRequire(import.meta.url)('caniemail/package.json').version;
const issues = [];

function collect(result, source) {
  for (const [kind, support] of [['errors', 'none'], ['warnings', 'partial']]) {
    for (const [client, list] of result.issues[kind]) {
      for (const issue of list) {
        issues.push({
          client,
          title: issue.title,
          support,
          line: issue.position?.start?.line ?? null,
          notes: issue.notes,
          source,
        });
      }
    }
  }
}

const all = getAllFeatures(request.clients);
const lacks = (client, title) => (all.unsupported.get(client) ?? []).some((feature) => feature.title === title);

collect(caniemail({ clients: request.clients, html: request.html }), 'html');
for (const block of request.blocks ?? []) {
  const clients = request.clients.filter((client) => !block.requires.some((title) => lacks(client, title)));
  if (clients.length && block.css.trim()) collect(caniemail({ clients, css: block.css }), '@media');
}

const wanted = new Set(request.titles ?? []);
if (wanted.size) {  for (const [client, features] of all.unsupported) {
    for (const feature of features) {
      if (wanted.has(feature.title)) {
        issues.push({ client, title: feature.title, support: 'none', line: null, notes: feature.notes, source: 'media-query' });
      }
    }
  }
  for (const [client, features] of all.supported) {
    for (const feature of features) {
      if (wanted.has(feature.title) && feature.support === 'partial') {
        issues.push({ client, title: feature.title, support: 'partial', line: null, notes: feature.notes, source: 'media-query' });
      }
    }
  }
}

process.stdout.write(JSON.stringify({ version, issues }));
