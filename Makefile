# Conveniences; everything also runs without make (see README.md).
.PHONY: bench test serve

# Load the API at 10, 1,000 and 10,000 sections beside a replaying baseline (about 8 minutes;
# writes bench/results/). BENCH_ARGS passes options, e.g. BENCH_ARGS="--quick --sizes 10".
bench:
	.venv/bin/python bench/run.py $(BENCH_ARGS)

test:
	python3 dev.py test

serve:
	python3 dev.py serve
