# Thin wrapper over CMake + Ninja. The two commands a newcomer needs:
#   make demo   build, create a demo platform (embedded SQLite) and serve it on 127.0.0.1:8080
#   make test   build with ASan+UBSan and run every test
.PHONY: all build demo test bench fuzz format clean

BUILD      ?= build/release
TESTBUILD  ?= build/asan
DEMO_DIR   ?= var/demo
DEMO_N     ?= 100000
JOBS       ?= $(shell nproc)

all: build

build:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/opentp demo --data $(DEMO_DIR) --beneficiaries $(DEMO_N) --if-absent
	@$(BUILD)/opentp serve --data $(DEMO_DIR) --listen 127.0.0.1:8080 --banner

test:
	@scripts/deps.sh test
	@cmake -S . -B $(TESTBUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTP_SANITIZE=ON >/dev/null
	@cmake --build $(TESTBUILD) -j $(JOBS)
	@cd $(TESTBUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@scripts/deps.sh bench
	@bench/run-all.sh $(BUILD)/opentp

fuzz:
	@scripts/deps.sh test
	@cmake -S . -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DTP_LIBFUZZER=ON >/dev/null
	@cmake --build build/fuzz -j $(JOBS)
	@for f in build/fuzz/fuzz_*; do echo "== $$f"; $$f -max_total_time=30 fuzz/corpus/$$(basename $$f | sed 's/^fuzz_//') || exit 1; done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
