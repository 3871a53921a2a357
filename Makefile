# Conveniences; everything also runs without make (see README.md).
.PHONY: bench test serve

# Load the API at 10, 1,000 and 10,000 sections beside a replaying baseline (about 5 minutes).
bench:
	.venv/bin/python bench/run.py $(BENCH_ARGS)

test:
	python3 dev.py test

serve:
	python3 dev.py serve
