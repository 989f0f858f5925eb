'use strict';
// Applies the fixes s3rver 3.7.1 needs to behave like S3 for the SDKs (see shared notes on test services).
// Idempotent: each fix is recognised as applied, applied, or reported as not found (a different s3rver).
// Usage: node patch.js <path to node_modules/s3rver>
const fs = require('fs');
const path = require('path');

const root = process.argv[2];
if (!root) {
  console.error('usage: node patch.js <node_modules/s3rver>');
  process.exit(2);
}

const fixes = [
  // Listings in S3's XML namespace: with s3rver's own namespace the Minio SDK parses zero keys.
  ...['bucket', 'service', 'object'].map(name => ({
    file: `lib/controllers/${name}.js`,
    from: "'http://doc.s3.amazonaws.com/2006-03-01/'",
    to: "'http://s3.amazonaws.com/doc/2006-03-01/'",
    all: true,
  })),
  // A copy source with %2F in it is one key, not a path.
  {
    file: 'lib/controllers/object.js',
    from: "decodeURI(ctx.headers['x-amz-copy-source'])",
    to: "decodeURIComponent(ctx.headers['x-amz-copy-source'])",
  },
  // Concurrent deletes race on empty-folder cleanup: a folder already gone or refilled is not an error.
  {
    file: 'lib/stores/filesystem.js',
    from: `    while (
      parts.length &&
      !fs.readdirSync(path.join(bucketPath, ...parts)).length
    ) {
      await fs.rmdir(path.join(bucketPath, ...parts));
      parts.pop();
    }`,
    to: `    try {
      while (
        parts.length &&
        !fs.readdirSync(path.join(bucketPath, ...parts)).length
      ) {
        await fs.rmdir(path.join(bucketPath, ...parts));
        parts.pop();
      }
    } catch (err) {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') throw err;
    }`,
  },
  // A page may end on a common prefix (see list-objects.js): continue after it, not after the last object.
  {
    file: 'lib/controllers/bucket.js',
    from: 'result.objects[result.objects.length - 1].key',
    to: '(result.nextMarker || result.objects[result.objects.length - 1].key)',
    all: true,
  },
  // Listings name each object's storage class, as S3's do (s3rver keeps x-amz-storage-class but lists STANDARD).
  {
    file: 'lib/controllers/bucket.js',
    from: "StorageClass: 'STANDARD',",
    to: "StorageClass: object.metadata['x-amz-storage-class'] || 'STANDARD',",
  },
];

let failed = false;
for (const fix of fixes) {
  const file = path.join(root, fix.file);
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes(fix.to)) continue; // already applied
  if (!text.includes(fix.from)) {
    console.error(`s3rver patch: '${fix.from.split('\n')[0].trim()}' not found in ${file}; is this s3rver 3.7.1?`);
    failed = true;
    continue;
  }
  const patched = fix.all ? text.split(fix.from).join(fix.to) : text.replace(fix.from, fix.to);
  fs.writeFileSync(file, patched);
}
process.exit(failed ? 1 : 0);
