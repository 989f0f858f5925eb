"""Reads Avro container files with Debian's python3-avro (an independent Avro reader) and prints {file: [records]}
as JSON, bytes as lowercase hex. Usage: /usr/bin/python3 read-avro.py FILE..."""
import json
import sys

import avro.datafile
import avro.io


def plain(value):
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


result = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f, avro.datafile.DataFileReader(f, avro.io.DatumReader()) as reader:
        result[path] = [plain(record) for record in reader]
json.dump(result, sys.stdout)
