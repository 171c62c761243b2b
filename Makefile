# The two commands a new user needs. Everything else lives in CMake.
#   make run   install what is missing, build, start the console
#   make test  install what is missing, build (normal, ASan+UBSan, TSan), run every test
#   make bench run every benchmark, rewrite the tables of docs/benchmarks.md
BUILD     ?= build
SAN_BUILD ?= build-san
TSAN_BUILD ?= build-tsan
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test deps deps-test build build-san build-tsan fuzz format clean bench install

run: build
	./$(BUILD)/swarmdeck

test: deps-test build build-san build-tsan
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -LE sanitize-only
	cd $(SAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L sanitize
	cd $(TSAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L tsan

deps:
	@sh scripts/deps.sh

deps-test:
	@sh scripts/deps.sh --test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-san: deps
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSWARMDECK_SANITIZE=ON >/dev/null
	@cmake --build $(SAN_BUILD) -j$(JOBS)

build-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSWARMDECK_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS)

# make bench: every benchmark in tests/bench at a reasonable size (minutes, needs root for the
# sandbox one); rewrites the tables of docs/benchmarks.md (date, machine, load, commands) and
# puts the raw output in docs/benchmarks/last-run.md.
bench: build
	@cmake --build $(BUILD) -j$(JOBS) --target bench-all
	python3 tests/bench/bench_all.py --build $(BUILD) --source . --doc docs/benchmarks.md \
	  --raw docs/benchmarks/last-run.md

fuzz: deps-test
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSWARMDECK_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzz-all
	cd build-fuzz && ctest --output-on-failure -L fuzz-long

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binaries, data, themes, the man page
# and the bash, zsh and fish completions (the rules are in cli/CMakeLists.txt).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD) build-fuzz
