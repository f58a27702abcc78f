# The two commands a newcomer needs: `make demo` and `make test`.
# Every target creates .venv when needed and installs what it uses.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Sans-IO protocol modules: tested with vectors to 100 % branch coverage.
SIGNING_PROTOCOL_MODULES := aiohttp_auth/signing/canonical.py,aiohttp_auth/signing/canonical_headers.py,aiohttp_auth/signing/sigv4*.py,aiohttp_auth/signing/aws_chunked.py,aiohttp_auth/signing/httpsig.py,aiohttp_auth/signing/httpsig_algorithms.py,aiohttp_auth/signing/httpsig_components.py,aiohttp_auth/signing/httpsig_fields.py,aiohttp_auth/signing/httpsig_keys.py,aiohttp_auth/signing/httpsig_message.py,aiohttp_auth/signing/httpsig_params.py,aiohttp_auth/signing/httpsig_policy.py,aiohttp_auth/signing/httpsig_signature_fields.py,aiohttp_auth/signing/httpsig_verify.py,aiohttp_auth/signing/content_digest.py,aiohttp_auth/signing/credential_formats.py,aiohttp_auth/signing/azure.py,aiohttp_auth/signing/azure_canonical.py,aiohttp_auth/signing/hmac_fields.py
PROTOCOL_MODULES := aiohttp_auth/_origins.py,aiohttp_auth/_redact.py,aiohttp_auth/challenges.py,aiohttp_auth/_challenge_scanner.py,aiohttp_auth/digest/algorithms.py,aiohttp_auth/digest/challenge.py,aiohttp_auth/digest/credentials.py,aiohttp_auth/digest/encoding.py,aiohttp_auth/digest/authinfo.py,aiohttp_auth/digest/protocol.py,aiohttp_auth/digest/answering.py,aiohttp_auth/digest/cnonces.py,aiohttp_auth/oauth2/token.py,aiohttp_auth/oauth2/_token_json.py,aiohttp_auth/oauth2/protocol.py,aiohttp_auth/oauth2/client_auth.py,aiohttp_auth/oauth2/client_auth_jwt.py,aiohttp_auth/oauth2/jwt.py,aiohttp_auth/oauth2/_jwt_keys.py,aiohttp_auth/oauth2/retry.py,aiohttp_auth/oauth2/grants*.py,aiohttp_auth/oauth2/metadata.py,aiohttp_auth/oauth2/_metadata_validation.py,$(SIGNING_PROTOCOL_MODULES)
# The oldest aiohttp we support; CI runs the suite against it too.
OLDEST_AIOHTTP ?= 3.12.0

LOCALSTACK_VENV ?= .peers/localstack
AZURITE_VERSION ?= 3.35.0
AZURITE := .peers/azurite/node_modules/.bin/azurite
# 4.13.1 is the newest LocalStack that runs on Python 3.11; the pins keep its
# dependency set installable (see tests/presign_peer.py).
LOCALSTACK_PINS := 'localstack-core[base-runtime]==4.13.1' 'moto-ext==5.1.54' 'service-identity==24.2.0' 'cbor2==5.9.0' 'pyopenssl==25.3.0'

.PHONY: demo test lint typecheck pytest docs examples bench test-oldest clean peers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(if $(AIOHTTP_PIN),$(BIN)/python -m pip install -q '$(AIOHTTP_PIN)')
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/aiohttp-auth demo

test: lint typecheck pytest docs

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Runs the whole suite, examples/ included (tests/test_examples.py runs each file
# against local servers), then checks coverage: the package >= 95 %, protocol
# modules 100 %.
pytest: $(VENV)/.installed-dev
	$(BIN)/coverage erase
	@# pytest exits 5 when it collects no test: here that means a broken suite.
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	  exit $$rc
	$(BIN)/coverage report
	$(BIN)/coverage report --include='$(PROTOCOL_MODULES)' --fail-under=100

examples: $(VENV)/.installed-dev
	$(BIN)/pytest -q tests/test_examples.py

docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/oauth2.py
	$(BIN)/python benchmarks/signing.py

# The suite against the oldest supported aiohttp, in a venv of its own.
test-oldest:
	$(MAKE) pytest VENV=.venv-oldest AIOHTTP_PIN='aiohttp==$(OLDEST_AIOHTTP)'
	.venv-oldest/bin/python -c "import aiohttp; print('tested against aiohttp', aiohttp.__version__)"

# Real peers that live outside .venv: LocalStack's S3 (a presigned-URL verifier) and
# Azurite (Azure Storage's emulator, a Shared Key verifier; needs Node.js and npm).
peers: $(LOCALSTACK_VENV)/.installed $(AZURITE)

$(AZURITE):
	npm install --prefix .peers/azurite --no-audit --no-fund --save-exact azurite@$(AZURITE_VERSION)

$(LOCALSTACK_VENV)/.installed:
	$(PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/python -m pip install -q --disable-pip-version-check $(LOCALSTACK_PINS)
	touch $@

clean:
	rm -rf $(VENV) .venv-oldest site .coverage .mypy_cache .ruff_cache .pytest_cache
