#!/usr/bin/env bash
# Sets up a fresh machine, builds spoold (release) and runs it in the
# foreground. Arguments go to spoold: scripts/serve.sh --listen 0.0.0.0:50051
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build -c release --product spoold
swift build -c release --product spoolctl  # the command-line client, beside spoold
exec .build/release/spoold "$@"
