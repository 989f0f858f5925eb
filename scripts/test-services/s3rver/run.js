'use strict';
// Starts s3rver's own command line with the S3-ordered listing of list-objects.js in place.
// Usage: node --openssl-legacy-provider run.js <node_modules/s3rver> <s3rver options...>
const path = require('path');

const root = path.resolve(process.argv[2]);
process.argv.splice(2, 1);
const FilesystemStore = require(path.join(root, 'lib/stores/filesystem.js'));
const S3Object = require(path.join(root, 'lib/models/object.js'));
FilesystemStore.prototype.listObjects = require('./list-objects.js')(S3Object);
require(path.join(root, 'bin/s3rver.js'));
