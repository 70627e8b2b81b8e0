"""A tiny Airbyte source using only the standard library.

spec, check, discover and read of one stream "items" with config
{"count": N}; check fails when the config has "fail": true.
"""

import json
import sys
import time


def emit(msg):
    sys.stdout.write(json.dumps(msg) + "\n")


def arg(args, flag):
    if flag in args:
        return args[args.index(flag) + 1]
    return None


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    args = sys.argv[1:]
    if not args:
        print("usage: source-pytest spec|check|discover|read", file=sys.stderr)
        sys.exit(2)
    verb = args[0]
    config = load(arg(args, "--config")) if arg(args, "--config") else {}
    if verb == "spec":
        emit({"type": "SPEC", "spec": {"connectionSpecification": {
            "type": "object", "properties": {"count": {"type": "integer"}}}}})
    elif verb == "check":
        ok = not config.get("fail")
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {
            "status": "SUCCEEDED" if ok else "FAILED", "message": "" if ok else "asked to fail"}})
    elif verb == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [{
            "name": "items",
            "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "supported_sync_modes": ["full_refresh"]}]}})
    elif verb == "read":
        emit({"type": "LOG", "log": {"level": "INFO", "message": "reading from python"}})
        now = int(time.time() * 1000)
        for i in range(int(config.get("count", 3))):
            emit({"type": "RECORD", "record": {"stream": "items", "data": {"id": i}, "emitted_at": now}})
        emit({"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": "items"}, "stream_state": {"done": True}}}})
    else:
        print("unknown command " + verb, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
