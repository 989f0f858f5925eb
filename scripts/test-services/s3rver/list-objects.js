'use strict';
// S3 lists keys in UTF-8 byte order, counts common prefixes against max-keys, and rolls every key under a
// common prefix into one entry. s3rver 3.7.1 walks folders in file-name order (so "a/b" comes before "a-b",
// and "a-x" before "a"), counts only objects, and assumes a one-character delimiter. This listing gathers
// the keys under the prefix, sorts them as S3 does, then pages.
const fs = require('fs');
const path = require('path');

const OBJECT_SUFFIX = '._S3rver_object';

function* walk(dir) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return;
    throw err;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let stats;
    try {
      stats = fs.statSync(file);
    } catch (err) {
      if (err.code === 'ENOENT') continue; // deleted while listing
      throw err;
    }
    if (stats.isDirectory()) yield* walk(file);
    else yield file;
  }
}

module.exports = function makeListObjects(S3Object) {
  return async function listObjects(bucket, options) {
    const {
      delimiter = '',
      startAfter = '',
      prefix = '',
      maxKeys = Infinity,
    } = options;
    const bucketPath = this.getBucketPath(bucket);
    const slash = prefix.lastIndexOf('/');
    const startDir =
      slash < 0 ? bucketPath : path.join(bucketPath, prefix.slice(0, slash));

    const keys = [];
    for (const file of walk(startDir)) {
      if (!file.endsWith(OBJECT_SUFFIX)) continue;
      const key = path
        .relative(bucketPath, file)
        .split(path.sep)
        .join('/')
        .slice(0, -OBJECT_SUFFIX.length);
      if (key.startsWith(prefix)) keys.push([Buffer.from(key, 'utf8'), key]);
    }
    keys.sort((a, b) => Buffer.compare(a[0], b[0]));

    // A start-after that is itself a common prefix (a page ended on it) skips everything rolled into it.
    let skip = null;
    if (delimiter && startAfter.startsWith(prefix)) {
      const at = startAfter.indexOf(delimiter, prefix.length);
      if (at !== -1 && at + delimiter.length === startAfter.length) skip = startAfter;
    }
    const after = Buffer.from(startAfter, 'utf8');
    const objectKeys = [];
    const commonPrefixes = [];
    let isTruncated = false;
    let nextMarker;
    for (const [bytes, key] of keys) {
      if (startAfter && Buffer.compare(bytes, after) <= 0) continue;
      if (skip !== null && key.startsWith(skip)) continue;
      let commonPrefix = null;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at !== -1) commonPrefix = key.slice(0, at + delimiter.length);
      }
      if (commonPrefix !== null && commonPrefix === commonPrefixes[commonPrefixes.length - 1]) continue;
      if (objectKeys.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      if (commonPrefix !== null) commonPrefixes.push(commonPrefix);
      else objectKeys.push(key);
      nextMarker = commonPrefix !== null ? commonPrefix : key;
    }

    const metadata = await Promise.all(
      objectKeys.map(key =>
        this.getMetadata(bucket, key).catch(err => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        }),
      ),
    );
    return {
      objects: objectKeys
        .map((key, i) => [key, metadata[i]])
        .filter(([, m]) => m !== undefined)
        .map(([key, m]) => new S3Object(bucket, key, null, m)),
      commonPrefixes,
      isTruncated,
      nextMarker: isTruncated ? nextMarker : undefined,
    };
  };
};
