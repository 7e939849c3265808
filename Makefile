# CareerRelay. `make demo` runs the embedded demo; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test bench lint format messages install serve worker clean

$(BIN)/django-admin: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/django-admin

install: $(BIN)/django-admin

demo: export SITE_URL ?= http://127.0.0.1:$(PORT)
demo: install
	mkdir -p var
	DJANGO_SETTINGS_MODULE=careerrelay.settings.local $(BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=careerrelay.settings.local $(BIN)/python manage.py seed_demo
	DJANGO_SETTINGS_MODULE=careerrelay.settings.local $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	DJANGO_SETTINGS_MODULE=careerrelay.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Compiled .mo files are committed; run this after editing locale/*/LC_MESSAGES/django.po.
messages: install
	DJANGO_SETTINGS_MODULE=careerrelay.settings.local $(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=var
	DJANGO_SETTINGS_MODULE=careerrelay.settings.local $(BIN)/python manage.py compilemessages --ignore=.venv

worker: install
	$(BIN)/celery -A careerrelay worker -l info --concurrency 2

clean:
	rm -rf $(VENV) var
