# Echomate: `make dev` runs the whole backend on 127.0.0.1; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every AWS call made by a make target goes to moto or nowhere: dummy credentials, no metadata.
export AWS_EC2_METADATA_DISABLED := true
LOCAL_AWS := AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

.PHONY: dev grant test lint fmt imports cfn-lint typecheck pytest unit service api e2e infra package deploy bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

dev: $(STAMP) ## the API on http://127.0.0.1:8000 (PORT=...), moto on 127.0.0.1:5000 (MOTO_PORT=...)
	$(BIN)/python -m devstack

grant: $(STAMP) ## make grant USER=<username> GROUP=<admins|moderators> (on the running `make dev`)
	@$(if $(and $(filter command line,$(origin USER)),$(GROUP)),,\
	  echo "usage: make grant USER=<username> GROUP=<admins|moderators>" >&2; exit 2;) \
	$(BIN)/python -m devstack.grant "$(USER)" "$(GROUP)"

test: lint imports typecheck cfn-lint package pytest ## everything CI runs (pytest last: its summary closes the log)

lint: $(STAMP) ## ruff's checks and format, changing nothing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: $(STAMP) ## the import contracts (pyproject.toml): features never import jobs or events
	$(BIN)/lint-imports

fmt: $(STAMP) ## ruff format, then ruff check --fix: fixes what it can of `make lint`
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml

typecheck: $(STAMP) ## mypy over app.py and chalicelib/ (strict settings in pyproject.toml)
	$(BIN)/mypy

pytest: $(STAMP) ## every tier (the quick loop without e2e: .venv/bin/pytest -m "not e2e")
	$(BIN)/python -m pytest

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

package: $(STAMP) ## the prod package as `chalice deploy` builds it (terraform format: SAM refuses S3 events)
	rm -rf build/package
	$(LOCAL_AWS) $(BIN)/chalice package --pkg-format terraform --stage prod build/package
	@ls -l build/package

deploy: $(STAMP) ## make deploy STAGE=<dev|prod>: stack outputs into the stage, chalice deploy, API Gateway's errors, the edge (AWS)
	@$(if $(filter dev prod,$(STAGE)),,echo "usage: make deploy STAGE=<dev|prod>" >&2; exit 2;)
	$(BIN)/python -m infra.stage_settings --stage $(STAGE)
	$(BIN)/chalice deploy --stage $(STAGE)
	$(BIN)/python -m infra.gateway_responses --stage $(STAGE)
	$(BIN)/python -m infra.edge --stage $(STAGE)

bench: $(STAMP)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/thumbnails.py

clean:
	rm -rf $(VENV) build .devstack .pytest_cache .ruff_cache .mypy_cache
