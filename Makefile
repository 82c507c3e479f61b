# Echomate: `make dev` runs the whole backend on 127.0.0.1; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every AWS call made by a make target goes to moto or nowhere: dummy credentials, no metadata.
export AWS_EC2_METADATA_DISABLED := true
LOCAL_AWS := AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

.PHONY: dev docs seed chromium grant test static lint fmt imports cfn-lint actionlint audit typecheck openapi-lint openapi-types pytest unit service api e2e infra package deploy deploy-rehearsal smoke bench bench-deps load clean

LOAD_STAMP := $(VENV)/.load-installed

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

WS_PORT ?= 8001
DEMO_PORT ?= 8002
dev: $(STAMP) ## the API on http://127.0.0.1:8000 (PORT=...), moto on :5000 (MOTO_PORT=...), the WebSocket API on ws://127.0.0.1:8001 (WS_PORT=...), the demo client on :8002 (DEMO_PORT=...); HOST=0.0.0.0 for the whole network
	HOST="$(HOST)" $(BIN)/python -m devstack --ws-port $(WS_PORT) --demo-port $(DEMO_PORT)

seed: $(STAMP) ## demo users, follows, photo posts, likes and comments in the running `make dev` (PORT=...); prints the logins
	$(BIN)/python -m devstack.seed

docs: $(STAMP) ## a static copy of the API reference (Swagger UI + openapi.json) in build/docs, for publishing
	$(BIN)/python -m devstack.docs build/docs

grant: $(STAMP) ## make grant USER=<username> GROUP=<admins|moderators> (on the running `make dev`)
	@$(if $(and $(filter command line,$(origin USER)),$(GROUP)),,\
	  echo "usage: make grant USER=<username> GROUP=<admins|moderators>" >&2; exit 2;) \
	$(BIN)/python -m devstack.grant "$(USER)" "$(GROUP)"

test: $(STAMP) ## everything CI runs: the static checks beside the deploy rehearsal, then pytest
	@# two jobs on CI's two cores; pytest last: its summary closes the log, and its last test
	@# checks the policy the rehearsal deployed against every AWS call the tests made
	$(MAKE) --no-print-directory -j2 --output-sync=target static deploy-rehearsal
	$(MAKE) --no-print-directory pytest

static: lint imports typecheck cfn-lint actionlint audit openapi-lint openapi-types package

lint: $(STAMP) ## ruff's checks and format, changing nothing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: $(STAMP) ## the import contracts (pyproject.toml): features never import jobs or events
	$(BIN)/lint-imports

fmt: $(STAMP) ## ruff format, then ruff check --fix: fixes what it can of `make lint`
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml infra/deploy-role.yaml

actionlint: $(STAMP) ## the GitHub workflows (.github/workflows)
	$(BIN)/actionlint

audit: $(STAMP) ## known vulnerabilities in requirements.txt (allowed ones: .pip-audit-allowlist)
	$(BIN)/pip-audit -r requirements.txt --progress-spinner off \
	  $$(grep -oE '^[A-Z]+-[A-Za-z0-9-]+' .pip-audit-allowlist | sed 's/^/--ignore-vuln /')

typecheck: $(STAMP) ## mypy over app.py and chalicelib/ (strict settings in pyproject.toml)
	$(BIN)/mypy

chromium: ## Debian's Chromium for the browser test (tests/browser), installed when missing; never a browser download
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Node tools (package.json, locked): Redocly CLI, installed by `npm ci` when the lock changes
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || (echo "npm (Node.js 20.19+ or 22.12+) is required" >&2; exit 1)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

openapi-lint: $(STAMP) $(NODE_STAMP) ## redocly lint (redocly.yaml) of the OpenAPI document, written to build/openapi.json
	@mkdir -p build
	$(LOCAL_AWS) $(BIN)/python -c 'import json, sys; from devstack.docs import openapi_document; \
	  json.dump(openapi_document(), sys.stdout, indent=2)' > build/openapi.json
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  npx --no-install redocly lint --config redocly.yaml build/openapi.json

openapi-types: openapi-lint ## TypeScript types from the document (openapi-typescript), tests/typescript/client.ts type-checked against them
	npx --no-install openapi-typescript build/openapi.json --default-non-nullable false \
	  -o build/api.d.ts --silent
	npx --no-install tsc --noEmit --strict --target es2022 --module es2022 \
	  --moduleResolution bundler tests/typescript/client.ts

OPERATIONS_DIR := build/aws-operations
pytest: $(STAMP) chromium ## every tier on two workers, then the IAM policy test over the AWS calls they made (the quick loop: .venv/bin/pytest -m "not e2e")
	@# pytest-xdist, a test file per worker at a time (module fixtures stay in one process);
	@# each worker leaves the AWS operations it saw in $(OPERATIONS_DIR) for the policy test
	rm -rf $(OPERATIONS_DIR)
	ECHOMATE_OPERATIONS_DIR=$(OPERATIONS_DIR) $(BIN)/python -m pytest -n 2 --dist loadfile \
	  --ignore=tests/infra/test_iam_policy.py --ignore=tests/infra/test_declared_statuses.py
	ECHOMATE_OPERATIONS_DIR=$(OPERATIONS_DIR) $(BIN)/python -m pytest tests/infra/test_iam_policy.py \
	  tests/infra/test_declared_statuses.py

unit: $(STAMP) ## tests/unit: pure functions, no AWS
	$(BIN)/python -m pytest tests/unit

service: $(STAMP) ## tests/service: chalicelib on moto in-process, table from the template
	$(BIN)/python -m pytest tests/service

api: $(STAMP) ## tests/api: the routes through chalice.test.Client, moto Cognito tokens
	$(BIN)/python -m pytest tests/api

e2e: $(STAMP) ## tests/e2e (marker e2e, slow): the embedded stack over HTTP, the event pump
	$(BIN)/python -m pytest tests/e2e

infra: $(STAMP) ## tests/infra: template, deploy scripts, IAM (the policy check needs all tiers)
	$(BIN)/python -m pytest tests/infra

package: $(STAMP) ## the prod package as `make deploy` builds it, with checked-hash .pyc (infra/bytecode.py)
	rm -rf build/package
	$(LOCAL_AWS) $(BIN)/python -m infra.bytecode package --pkg-format terraform --stage prod build/package
	$(BIN)/python -m infra.bytecode check build/package/deployment.zip
	@ls -l build/package

deploy: $(STAMP) ## make deploy STAGE=<dev|staging|prod> [STATE_BUCKET=...] (AWS; docs/deploy.md)
	@$(if $(filter dev staging prod,$(STAGE)),,\
	  echo "usage: make deploy STAGE=<dev|staging|prod> [STATE_BUCKET=<bucket>]" >&2; exit 2;)
	$(if $(STATE_BUCKET),$(BIN)/python -m infra.deploy_state pull --stage $(STAGE) --bucket $(STATE_BUCKET))
	$(BIN)/python -m infra.stage_settings --stage $(STAGE)
	@# the state is pushed even when the deploy fails half-way: it then lists what was created
	$(BIN)/python -m infra.bytecode deploy --stage $(STAGE); status=$$?; \
	$(if $(STATE_BUCKET),$(BIN)/python -m infra.deploy_state push --stage $(STAGE) --bucket $(STATE_BUCKET) || status=1;) \
	exit $$status
	$(BIN)/python -m infra.after_deploy --stage $(STAGE)
	$(BIN)/python -m infra.edge --stage $(STAGE)

deploy-rehearsal: package ## the deploy commands against a fresh moto server, checked (docs/deploy.md)
	$(BIN)/python -m infra.rehearsal

smoke: $(STAMP) ## make smoke API=<url>: a deployed stage, used as the frontend does (cleans up)
	@$(if $(API),,echo "usage: make smoke API=<url> (SMOKE_EMAIL/SMOKE_PASSWORD: a test account)" >&2; exit 2;)
	$(BIN)/python -m infra.smoke --api "$(API)"

bench: $(STAMP) bench-deps package ## the figures of docs/performance.md (minutes; not part of make test)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/cold_start.py --package build/package/deployment.zip
	$(BIN)/python bench/keepalive.py
	$(BIN)/python bench/serialise.py
	$(BIN)/python bench/moto_scale.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/thumbnails.py
	$(BIN)/python bench/realtime.py

bench-deps: ## libvips for bench/thumbnails.py's pyvips baseline (Debian's libvips42; root)
	@python3 -c 'import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library("vips") else 1)' \
	  || (apt-get update -qq && apt-get install -y -qq libvips42)

$(LOAD_STAMP): $(STAMP) requirements-load.txt
	$(BIN)/pip install --quiet -r requirements-load.txt
	@touch $(LOAD_STAMP)

load: $(LOAD_STAMP) ## Locust on an embedded stack it starts, beside the DynamoDB floor (USERS=30 DURATION=300)
	$(BIN)/python bench/load.py --users $(or $(USERS),30) --duration $(or $(DURATION),300)

clean:
	rm -rf $(VENV) node_modules build .devstack .pytest_cache .ruff_cache .mypy_cache
