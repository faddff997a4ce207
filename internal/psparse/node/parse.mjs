// parse.mjs parses PowerShell scripts with tree-sitter-powershell, for
// driftless's tests (internal/psparse runs it; see its package doc).
//
// stdin: a JSON object {"name": "script text", ...}.
// stdout: one JSON line per script, in the order given:
//   {"name": "...", "hasError": true, "errors": [{"kind": "ERROR"|"MISSING",
//    "type": "...", "line": 1, "col": 1, "text": "..."}]}
// line and col are 1-based; col counts characters (UTF-16 code units).
// errors holds the first few ERROR and MISSING nodes, outermost first, in
// the order they appear in the script.
import Parser from 'tree-sitter';
import PowerShell from 'tree-sitter-powershell';
import { readFileSync } from 'node:fs';

const maxErrors = 5;
const maxText = 80;

const parser = new Parser();
parser.setLanguage(PowerShell);

const scripts = JSON.parse(readFileSync(0, 'utf8'));
const out = [];
for (const [name, text] of Object.entries(scripts)) {
  const tree = parser.parse(text, null, { bufferSize: Math.max(16 * 1024, text.length + 1) });
  const root = tree.rootNode;
  const errors = [];
  if (root.hasError) {
    collect(root, text, errors);
  }
  out.push(JSON.stringify({ name, hasError: root.hasError, errors }));
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));

// collect appends node's outermost ERROR and MISSING nodes to errors,
// descending only into subtrees that hold one.
function collect(node, text, errors) {
  if (errors.length >= maxErrors) {
    return;
  }
  if (node.isError || node.isMissing) {
    errors.push(describe(node, text));
    return;
  }
  for (let i = 0; i < node.childCount; i++) {
    const c = node.child(i);
    if (c.hasError || c.isMissing) {
      collect(c, text, errors);
    }
  }
}

function describe(node, text) {
  const at = node.startIndex;
  const lineStart = at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
  const line = text.slice(0, at).split('\n').length;
  let snippet = node.isMissing ? text.slice(lineStart, at) + '⟨missing ' + node.type + '⟩' : text.slice(at, node.endIndex);
  snippet = snippet.split('\n')[0];
  if (snippet.length > maxText) {
    snippet = snippet.slice(0, maxText) + '…';
  }
  return { kind: node.isMissing ? 'MISSING' : 'ERROR', type: node.type, line, col: at - lineStart + 1, text: snippet };
}
