# PFS: build the core (AssemblyScript -> build/pfs.wasm), the Node host
# (TypeScript -> build/js), and run demos, tests and benchmarks.
# `make demo` and `make test` install what they need on a fresh machine.

SHELL := /bin/bash
NPX := npx --no-install
CORE_SRC := $(wildcard assembly/*.ts)
HOST_SRC := tests/run-all.ts $(filter-out host/core/abi.gen.ts,$(shell find host tests/sim tests/host tests/support bench -name "*.ts" 2>/dev/null))
WASM_OPT_FLAGS := --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int \
                  --enable-sign-ext --enable-mutable-globals

.PHONY: all build deps demo test test-core test-host size bench clean

all: build

# npm ci only when the lockfile changed since the last install.
node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

build: deps build/pfs.wasm build/pfs.debug.wasm build/gen/pfs_abi.h build/js/.built

# The numbers hosts share with the core, generated from the core's source:
# assembly/abi-numbers.ts compiled alone, its globals read by gen-abi.
ABI_GEN := host/core/abi.gen.ts build/gen/pfs_abi.h
build/abi-numbers.wasm: $(CORE_SRC) node_modules/.installed
	@mkdir -p build
	@# An empty config, so asc does not add asconfig.json's entries to this one.
	@echo '{"options":{}}' > build/asc-none.json
	$(NPX) asc assembly/abi-numbers.ts --config build/asc-none.json --runtime stub -o $@

$(ABI_GEN) &: build/abi-numbers.wasm host/tools/gen-abi.ts
	$(NPX) tsx host/tools/gen-abi.ts build/abi-numbers.wasm $(ABI_GEN)
	@touch $(ABI_GEN)

build/pfs.wasm: $(CORE_SRC) asconfig.json node_modules/.installed
	@mkdir -p build
	$(NPX) asc assembly/index.ts --target release -o build/pfs.asc.wasm --textFile build/pfs.wat
	@# -O3z from asc, then binaryen's -Oz pass over it; keep whichever is smaller.
	$(NPX) wasm-opt $(WASM_OPT_FLAGS) -Oz build/pfs.asc.wasm -o build/pfs.opt.wasm
	@if [ $$(stat -c%s build/pfs.opt.wasm) -lt $$(stat -c%s build/pfs.asc.wasm) ]; then \
	  mv build/pfs.opt.wasm $@; rm -f build/pfs.asc.wasm; else mv build/pfs.asc.wasm $@; rm -f build/pfs.opt.wasm; fi

build/pfs.debug.wasm: $(CORE_SRC) asconfig.json node_modules/.installed
	@mkdir -p build
	$(NPX) asc assembly/index.ts --target debug

build/js/.built: $(HOST_SRC) host/core/abi.gen.ts tsconfig.json node_modules/.installed
	$(NPX) tsc -p tsconfig.json
	@touch $@

size: build
	@node build/js/host/tools/size.js

demo: build
	node bin/pfs.js demo

# All tests; the closing line counts every suite: "N passed, N failed".
test: build
	@bash tests/support/debian-deps.sh
	node build/js/tests/run-all.js

bench: build
	node build/js/bench/run.js

clean:
	rm -rf build
