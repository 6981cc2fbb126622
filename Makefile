# `make test` is the project's test command: README, .ci/run and GitHub Actions all run exactly it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime) when this machine has one that runs, else python3 (>= 3.11: enough
# for the pipeline and `make demo`; `make test` needs 3.12 because it packages the Lambda functions).
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	"$$p" -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-py$(PYVER)

.PHONY: help venv python312 lint test demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The dev environment is installed from the lock file (exact versions and hashes, valid on Python 3.11
# and 3.12; `make lock` refreshes it), then the project itself without resolving anything. The lock keeps
# extras (mashumaro[msgpack]): the pip a new venv starts with refuses an extra it finds unpinned.
LOCK := requirements/dev.txt

$(STAMP): pyproject.toml $(LOCK)
	@test -n "$(PYTHON)" || { echo "no Python >= 3.11 found"; exit 1; }
	@if [ -d $(VENV) ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYVER)" ]; then \
		echo "$(VENV) is not a working Python $(PYVER) environment: recreating it"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)  # pip itself included
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# Bytecode, as pip writes for an installed package: with PYTHONDONTWRITEBYTECODE set, an editable
	@# checkout would otherwise compile every module on every run (for a day of 500 updates, about a quarter of its run).
	$(BIN)/python -m compileall -q etl chalice_app
	touch $@

venv: $(STAMP)  ## create .venv with the project and its dev tools, installed from the lock file

python312:
	@test "$(PYVER)" = "3.12" || { echo "make test needs Python 3.12, the Lambda runtime (found: $(PYTHON) $(PYVER))"; exit 1; }

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: python312 lint lint-sql check-athena lint-workflows lint-infra chromium  ## lint, then the whole test suite
	$(BIN)/pytest

demo: $(STAMP)  ## the whole pipeline on a generated week of a group: webhook, ETL, dbt, report
	$(BIN)/tgpipe demo --lake lake/demo

bench: $(STAMP)  ## the benchmarks under bench/, printing figures
	$(BIN)/python bench/webhook_bench.py
	$(BIN)/python bench/etl_bench.py
	$(BIN)/python bench/dbt_bench.py

clean:  ## remove the environment and local lake
	rm -rf $(VENV) lake .pytest_cache .mypy_cache .ruff_cache

.PHONY: lint-sql check-athena

lint-sql: $(STAMP)  ## sqlfluff on the dbt models (Athena dialect, jaffle-shop style)
	cd dbt_project && ../$(BIN)/sqlfluff lint models

check-athena: $(STAMP)  ## dbt parse + compile for Athena offline; sqlglot checks the SQL
	$(BIN)/python dbt_project/scripts/check_athena_sql.py

.PHONY: chromium

# The report's browser test drives a system Chromium (Debian's package); playwright never downloads one.
chromium:  ## install Debian's chromium when no Chromium/Chrome is on the PATH
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; }

# ---- AWS (chalice_app/infra/; README "Deploy to AWS"): lint offline, package, deploy, tear down ----
STAGE ?= prod
STACK = tgpipe-$(STAGE)
PACKAGE = build/package/$(STAGE)
AWS ?= aws
STACK_PY = $(BIN)/python -m chalice_app.infra.stack
# The bootstrap stack's artifacts bucket into $$bucket, deploying the bootstrap stack the first time.
ARTIFACTS = bucket=$$($(STACK_PY) artifacts-bucket 2>/dev/null) || { $(MAKE) --no-print-directory bootstrap && \
	bucket=$$($(STACK_PY) artifacts-bucket); }
# The deployed stage's settings (lake, Athena, webhook URL, secret parameter) exported to the recipe.
STAGE_ENV = stage_env=$$($(STACK_PY) env --stage $(STAGE)) && set -a && eval "$$stage_env" && set +a

.PHONY: lint-workflows lint-infra layer package bootstrap deploy athena webhook stage-etl outputs destroy infra chalice-project

lint-workflows: $(STAMP)  ## zizmor and the GitHub schemas on .github/workflows and dependabot.yml (offline)
	$(BIN)/zizmor --offline --no-progress .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --no-progress .github/dependabot.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

lint-infra: $(STAMP)  ## cfn-lint on the hand-written templates (pytest lints the packaged one)
	$(BIN)/cfn-lint chalice_app/infra/data.yaml chalice_app/infra/bootstrap.yaml

layer: $(STAMP)  ## the ETL's pyarrow layer into build/layer/ (downloads the pinned wheels once)
	$(BIN)/python -m chalice_app.infra.build_layer

package: $(STAMP)  ## chalice package + merge template + layer for STAGE into build/package/STAGE
	$(BIN)/python -m chalice_app.infra.package --stage $(STAGE)

bootstrap: $(STAMP)  ## once per account and region: artifacts bucket; GITHUB_REPO=owner/name adds deploy roles
	$(AWS) cloudformation deploy --stack-name tgpipe-bootstrap --template-file chalice_app/infra/bootstrap.yaml \
		--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
		$(if $(GITHUB_REPO)$(OIDC_PROVIDER_ARN),--parameter-overrides \
		$(if $(GITHUB_REPO),GitHubRepository=$(GITHUB_REPO)) $(if $(OIDC_PROVIDER_ARN),GitHubOidcProviderArn=$(OIDC_PROVIDER_ARN)))
	$(AWS) cloudformation describe-stacks --stack-name tgpipe-bootstrap --query 'Stacks[0].Outputs' --output table

deploy: package  ## package STAGE and deploy it as the stack tgpipe-STAGE (AWS credentials, TELEGRAM_CHAT_ID)
	@test -n "$$TELEGRAM_CHAT_ID" || { echo "TELEGRAM_CHAT_ID is required: the chat ids the webhook keeps"; exit 2; }
	$(ARTIFACTS) && \
	$(AWS) cloudformation package --template-file $(PACKAGE)/sam.json --s3-bucket "$$bucket" \
		--s3-prefix $(STACK) --output-template-file $(PACKAGE)/packaged.yaml && \
	$(AWS) cloudformation deploy --stack-name $(STACK) --template-file $(PACKAGE)/packaged.yaml \
		--s3-bucket "$$bucket" --s3-prefix $(STACK) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--no-fail-on-empty-changeset $(if $(CFN_ROLE_ARN),--role-arn $(CFN_ROLE_ARN)) \
		--parameter-overrides Stage=$(STAGE) "TelegramChatId=$$TELEGRAM_CHAT_ID" $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)) \
		$(if $(ETL_LAYER_ARN),ManagedLayerArn=$(ETL_LAYER_ARN)) $(RETENTION_PARAMETER) $(FUNCTION_PRIVACY_PARAMETERS)
	$(STACK_PY) outputs --stage $(STAGE)

athena: $(STAMP)  ## create the Athena source table, then dbt build on Athena for STAGE (unit tests run on DuckDB)
	$(STAGE_ENV) && cd dbt_project && ../$(BIN)/dbt run-operation create_enriched_source_table --target athena && \
		../$(BIN)/dbt build --target athena --exclude-resource-type unit_test

webhook: $(STAMP)  ## point the Telegram bot at STAGE's webhook (TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID)
	$(STAGE_ENV) && $(BIN)/tgpipe webhook set --url "$$TGPIPE_WEBHOOK_URL"

stage-etl: $(STAMP)  ## run the ETL on STAGE's lake from this machine now (DATE=YYYY-MM-DD, default yesterday)
	$(STAGE_ENV) && $(BIN)/tgpipe etl $(if $(DATE),--date $(DATE))

outputs: $(STAMP)  ## STAGE's stack outputs, then the settings `make athena` and `make webhook` use
	$(STACK_PY) outputs --stage $(STAGE)
	$(STACK_PY) env --stage $(STAGE)

destroy: $(STAMP)  ## delete STAGE: functions, stacks, lake and its data, secret (CONFIRM=tgpipe-STAGE)
	@test "$(CONFIRM)" = "$(STACK)" || { echo "this deletes $(STACK) and all its data: make destroy STAGE=$(STAGE) CONFIRM=$(STACK)"; exit 2; }
	@if [ -f chalice_app/.chalice/deployed/$(STAGE).json ]; then \
		TELEGRAM_CHAT_ID=$${TELEGRAM_CHAT_ID:-0} $(STACK_PY) chalice-project --stage $(STAGE) --out build/chalice/$(STAGE) && \
		$(BIN)/chalice --project-dir build/chalice/$(STAGE) delete --stage $(STAGE); fi
	$(STACK_PY) destroy --stage $(STAGE) --confirm "$(CONFIRM)"

infra: $(STAMP)  ## `chalice deploy` path, step 1: the data stack tgpipe-STAGE-data (lake, catalog, Athena, layer)
	$(BIN)/python -m chalice_app.infra.package --stage $(STAGE) --data-only
	$(ARTIFACTS) && \
	$(AWS) cloudformation package --template-file build/data/$(STAGE)/data.json --s3-bucket "$$bucket" \
		--s3-prefix $(STACK)-data --output-template-file build/data/$(STAGE)/packaged.yaml && \
	$(AWS) cloudformation deploy --stack-name $(STACK)-data --template-file build/data/$(STAGE)/packaged.yaml \
		--capabilities CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)) \
		$(if $(ETL_LAYER_ARN),ManagedLayerArn=$(ETL_LAYER_ARN)) $(RETENTION_PARAMETER)

chalice-project: $(STAMP)  ## `chalice deploy` path, step 2: build/chalice/STAGE for chalice deploy --project-dir
	$(STACK_PY) chalice-project --stage $(STAGE) --out build/chalice/$(STAGE)

# ---- Nightly marts on Athena (.github/workflows/marts.yml; README "Nightly marts on Athena") ----
# STAGE's settings come from its stack outputs (STAGE_ENV above). DBT is the dbt these targets run:
# tests/infra/test_marts_workflow.py points it at a recorder, since Athena cannot run offline.
DBT ?= $(CURDIR)/$(BIN)/dbt

.PHONY: freshness marts athena-docs

freshness: $(STAMP)  ## dbt source freshness of STAGE's enriched tables on Athena (errors after 60 h without data)
	$(STAGE_ENV) && cd dbt_project && "$(DBT)" source freshness --target athena

marts: $(STAMP)  ## dbt build on Athena for STAGE, unit tests excluded (artifacts in dbt_project/target/)
	$(STAGE_ENV) && cd dbt_project && "$(DBT)" build --target athena --exclude resource_type:unit_test

athena-docs: $(STAMP)  ## the static dbt docs site of STAGE's Athena marts: dbt_project/target/static_index.html
	$(STAGE_ENV) && cd dbt_project && "$(DBT)" docs generate --static --target athena

# ---- dbt docs on DuckDB (README "dbt docs") ----
# The demo's lake by default, made by `tgpipe demo` when it has no database yet.
DOCS_LAKE ?= lake/demo
DOCS_OUT ?= build/docs

.PHONY: docs

docs: $(STAMP)  ## the static dbt docs site on DuckDB (the demo's lake, made if missing): build/docs/static_index.html
	@test -f $(DOCS_LAKE)/tgpipe.duckdb || $(BIN)/tgpipe demo --lake $(DOCS_LAKE)
	TGPIPE_ENRICHED_URI=$(abspath $(DOCS_LAKE))/enriched TGPIPE_DUCKDB_PATH=$(abspath $(DOCS_LAKE))/tgpipe.duckdb \
		TGPIPE_TIMEZONE=America/Sao_Paulo $(BIN)/dbt --quiet docs generate --static --target local \
		--project-dir dbt_project --profiles-dir dbt_project \
		--target-path $(abspath $(DOCS_OUT)) --log-path $(abspath $(DOCS_OUT))/logs
	@echo "dbt docs: $(abspath $(DOCS_OUT))/static_index.html (open it in a browser; it needs no server)"

# ---- Reproducible installs: the lock file (README "Test") ----
.PHONY: lock test-portable

lock: $(STAMP)  ## refresh requirements/dev.txt after editing pyproject.toml (UPGRADE=1: newest versions of everything)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
		--no-strip-extras $(if $(UPGRADE),--upgrade) --quiet -o $(LOCK)

# What the Python 3.11 CI job runs besides `make demo`: every test but those that package for Lambda.
test-portable: $(STAMP) chromium  ## the tests that do not package for Lambda (any Python >= 3.11)
	$(BIN)/pytest -m "not lambda_package"

# ---- privacy (README "Privacy"; etl.privacy): retention on the stack, forget on a stage ----
# TGPIPE_RAW_RETENTION_DAYS=N at `make deploy` / `make infra`: the lake's lifecycle expires raw days after N days.
RETENTION_PARAMETER = $(if $(TGPIPE_RAW_RETENTION_DAYS),RawRetentionDays=$(TGPIPE_RAW_RETENTION_DAYS))
# At `make deploy` (the functions' stack): TGPIPE_TEXT_RETENTION_DAYS=N nightly nulls the text of days past N;
# TGPIPE_PSEUDONYMISE=1 TGPIPE_PSEUDONYMISE_KEY_PARAM=/tgpipe/STAGE/pseudonymise-key pseudonymises the ETL's output.
FUNCTION_PRIVACY_PARAMETERS = $(if $(TGPIPE_TEXT_RETENTION_DAYS),TextRetentionDays=$(TGPIPE_TEXT_RETENTION_DAYS)) \
	$(if $(TGPIPE_PSEUDONYMISE),Pseudonymise=$(TGPIPE_PSEUDONYMISE)) \
	$(if $(TGPIPE_PSEUDONYMISE_KEY_PARAM),PseudonymiseKeyParameter=$(TGPIPE_PSEUDONYMISE_KEY_PARAM))

.PHONY: forget
comma := ,
forget: $(STAMP)  ## erase a person from STAGE's lake with its forget function (USER_ID=..., CHAT_ID=, DRY_RUN=1)
	@[[ "$(USER_ID)" =~ ^[0-9]+$$ ]] || { echo "USER_ID must be the person's numeric Telegram id: make forget STAGE=$(STAGE) USER_ID=123456789"; exit 2; }
	@[[ -z "$(CHAT_ID)" || "$(CHAT_ID)" =~ ^-?[0-9]+$$ ]] || { echo "CHAT_ID must be a numeric chat id"; exit 2; }
	@mkdir -p build
	$(AWS) lambda invoke --function-name $(STACK)-forget --cli-binary-format raw-in-base64-out \
		--cli-read-timeout 900 --payload '{"user_id": $(USER_ID)$(if $(CHAT_ID),$(comma) "chat_id": $(CHAT_ID))$(if $(DRY_RUN),$(comma) "dry_run": true)}' \
		build/forget-$(STAGE).json >/dev/null && cat build/forget-$(STAGE).json && echo
	@echo "Athena's marts are rebuilt by the next nightly marts run, or now with: make athena STAGE=$(STAGE)"
