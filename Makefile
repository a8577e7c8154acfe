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

build: deps build/pfs.wasm build/pfs.debug.wasm build/gen/pfs_abi.h build/js/.built build/web/.built

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

# The release build without its assertions, only to measure what they cost
# (`make bench-asserts`, bench/core-asserts.ts); nothing runs it otherwise.
.PHONY: bench-asserts
build/pfs.noassert.wasm: $(CORE_SRC) asconfig.json node_modules/.installed
	@mkdir -p build
	$(NPX) asc assembly/index.ts --target release --noAssert -o build/pfs.noassert.asc.wasm
	$(NPX) wasm-opt $(WASM_OPT_FLAGS) -Oz build/pfs.noassert.asc.wasm -o build/pfs.noassert.opt.wasm
	@# As for pfs.wasm: whichever of the two is smaller.
	@if [ $$(stat -c%s build/pfs.noassert.opt.wasm) -lt $$(stat -c%s build/pfs.noassert.asc.wasm) ]; then \
	  mv build/pfs.noassert.opt.wasm $@; rm -f build/pfs.noassert.asc.wasm; else mv build/pfs.noassert.asc.wasm $@; rm -f build/pfs.noassert.opt.wasm; fi
bench-asserts: build build/pfs.noassert.wasm
	node build/js/bench/core-asserts.js

# --- The core as a WASI command (wasi/): `make wasi` ---
# build/pfs.wasi.wasm: wasi/main.ts with the core linked in and its software
# SHA-256 (PFS_SOFT_SHA256), through wasi-shim's asconfig, so it imports only
# wasi_snapshot_preview1. -O3s: a replay hashes every view and observation;
# it ran a 69 MB trace as fast as -O3 (1.06 vs 1.24 s) at 56 KB, not 76.
# Not part of `build`; `make test` builds it for the tests that run it.
.PHONY: wasi
WASI_SRC := $(wildcard wasi/*.ts)
WASI_SHIM_CONFIG := node_modules/@assemblyscript/wasi-shim/asconfig.json
wasi: build/pfs.wasi.wasm
build/pfs.wasi.wasm: $(WASI_SRC) $(CORE_SRC) node_modules/.installed
	@mkdir -p build
	$(NPX) asc wasi/main.ts --config $(WASI_SHIM_CONFIG) --use PFS_SOFT_SHA256=1 --runtime stub -O3s -o $@
test: build/pfs.wasi.wasm

build/js/.built: $(HOST_SRC) host/core/abi.gen.ts tsconfig.json node_modules/.installed
	$(NPX) tsc -p tsconfig.json
	@touch $@

# The live fleet page (web/, docs/WEB.md): typechecked against the DOM with
# its own tsconfig, bundled with d3-hierarchy and uPlot (and their CSS) by
# esbuild into build/web, which host/web/server.ts serves: nothing from the
# internet at run time.
WEB_SRC := $(wildcard web/*) host/view/fleet-snapshot.ts host/view/report.ts
build/web/.built: $(WEB_SRC) node_modules/.installed
	@mkdir -p build/web
	$(NPX) tsc --noEmit -p web/tsconfig.json
	$(NPX) esbuild web/app.ts --bundle --minify --format=esm --target=es2022 --log-level=warning --outfile=build/web/app.js
	cp web/index.html build/web/index.html
	@touch $@

size: build
	@node build/js/host/tools/size.js

demo: build
	node bin/pfs.js demo

# All tests; the closing line counts every suite: "N passed, N failed".
test: build
	@bash tests/support/debian-deps.sh
	@# The C toolchains (wabt, gcc, arm-none-eabi with newlib, qemu-system-arm)
	@# for the native replayer and the board image; the tests that need them
	@# build them, and skip saying why where they cannot be installed.
	@bash native/toolchain.sh board || true
	node build/js/tests/run-all.js

# `make bench` also builds the C phone (`make native`) when its toolchain is
# here; when it is not, the bench prints one line saying why it skips it.
bench: build
	@if bash native/toolchain.sh phone --check >/dev/null; then $(MAKE) --no-print-directory native; fi
	node build/js/bench/run.js
	$(MAKE) --no-print-directory bench-site

# `make bench-site`: the whole site on real sockets (bench/site.ts, docs/SITE.md):
# 60 phone processes in namespaces behind a 2000 kbit/s, 80 ms WAN; several
# minutes; as root (it prints why it skips otherwise). Table: bench/results/site.md.
.PHONY: bench-site
bench-site: build
	node build/js/bench/site.js

# `make sweep`: the thousand-run fault sweep (host/sim/sweep.ts) on the debug
# core, on a worker thread per CPU; every run draws its fleet and faults
# from its seed, and a failure prints the command that reproduces it.
# `make test` runs the first 40 seeds of it (tests/sim/fault-sweep.test.ts).
# SWEEP_RUNS=N SWEEP_SEED=S SWEEP_JOBS=J pick another slice.
.PHONY: sweep
SWEEP_RUNS ?= 1000
SWEEP_SEED ?= 1
SWEEP_JOBS ?= $(shell nproc)
sweep: build
	node bin/pfs.js sweep --runs $(SWEEP_RUNS) --seed $(SWEEP_SEED) --jobs $(SWEEP_JOBS) --json

# `make fuzz`: the fuzz target at its full count, 10^6 random and
# structure-aware mutated datagrams and frames into debug cores while a
# simulated fleet upgrades (tests/host/fuzz-core.test.ts; `make test` feeds
# 10^5), and the real-socket attacks at full length: a UDP flood with idle
# and garbage connections, and 60 s of connection churn during an upgrade of
# the real-sized load (tests/host/fleet-flood.test.ts). PFS_FUZZ_SEED=N
# replays a seed.
.PHONY: fuzz
FUZZ_INPUTS ?= 1000000
fuzz: build
	PFS_FUZZ_INPUTS=$(FUZZ_INPUTS) PFS_FLOOD_LONG=1 node --test build/js/tests/host/fuzz-core.test.js build/js/tests/host/fleet-flood.test.js

# `make test-kills`: the long kill test on real processes: 32 phones upgrading
# to the real-sized cp7961-9.4.2 load over an emulated WAN while a random
# phone is killed with SIGKILL every 1 to 4 s and restarted from its own
# flash, until all hold the load; every image read back against the server's
# files (tests/host/fleet-kills.test.ts; `make test` runs the tiny load).
.PHONY: test-kills
test-kills: build
	PFS_KILLS_LONG=1 node --test build/js/tests/host/fleet-kills.test.js

# --- The core as C (native/): wasm2c, the trace replayer, board images ---
# `make replay`: build/native/pfs-replay (and pfs-sha256, pfs-embed-test for
# the tests) with the system cc.
# `make board BOARD=mps2-an385`: build/boards/$(BOARD)/pfs.elf (Cortex-M, newlib).
# Both first run native/toolchain.sh, which installs what is missing (as root)
# or says in one line what is; `make build` needs no C toolchain at all.
.PHONY: replay board native-toolchain board-toolchain
BOARD ?= mps2-an385
BOARD_DIR := build/boards/$(BOARD)
W2C_C := build/native/gen/pfs.c
NATIVE_HDR := $(wildcard native/*/*.h) build/gen/pfs_abi.h
NATIVE_CORE_SRC := native/rt/rt_core.c $(filter-out %_test.c,$(wildcard native/embed/*.c)) native/sha256/sha256.c
NATIVE_REPLAY_SRC := $(filter-out native/replay/main_native.c,$(wildcard native/replay/*.c))
NATIVE_INC := -Ibuild/native/gen -Ibuild/gen -Inative/rt -Inative/embed -Inative/sha256 -Inative/replay
NATIVE_WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes
# wasm2c output draws warnings of its own style that say nothing about ours.
W2C_FLAGS := -Wall -Wno-unused-value -Wno-unused-parameter -Wno-unused-function -Wno-unused-variable \
             -Wno-unused-but-set-variable
# Everything that includes wasm-rt.h: bounds checks in C and a counted call
# depth, not a signal handler (wasm-rt.h), so one runtime serves every target.
NATIVE_CFLAGS := -std=gnu11 -O2 -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 $(NATIVE_INC)
BOARD_CC := arm-none-eabi-gcc
# -Os for flash; newlib with rdimon (semihosting) for stdio, files and exit.
BOARD_CFLAGS = $$(cat $(BOARD_DIR)/cpu-flags) -Os -ffunction-sections -fdata-sections -std=gnu11 \
               -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 $(NATIVE_INC) -I$(BOARD_DIR) -Inative/board -include $(BOARD_DIR)/board.h

native-toolchain:
	@bash native/toolchain.sh native
board-toolchain:
	@bash native/toolchain.sh board

replay: build/native/pfs-replay build/native/pfs-sha256 build/native/pfs-embed-test

# wasm-rt.h (wabt's runtime API, which native/rt implements) beside the
# generated code, so a cross compiler finds it without the host's /usr/include.
WASM_RT_H := /usr/include/wasm-rt.h
$(W2C_C): build/pfs.wasm | native-toolchain
	@mkdir -p $(@D)
	wasm2c $< -n pfs -o $@
	cp $(WASM_RT_H) $(@D)/wasm-rt.h

build/native/pfs.o: $(W2C_C) | native-toolchain
	cc $(NATIVE_CFLAGS) $(W2C_FLAGS) -c $< -o $@

build/native/pfs-replay: build/native/pfs.o $(NATIVE_CORE_SRC) $(NATIVE_REPLAY_SRC) native/replay/main_native.c \
                         native/rt/mem_heap.c $(NATIVE_HDR) | native-toolchain
	cc $(NATIVE_CFLAGS) $(NATIVE_WARN) -pthread -o $@ $(filter %.c %.o,$^) -lm

build/native/pfs-embed-test: build/native/pfs.o $(NATIVE_CORE_SRC) native/embed/embed_test.c native/rt/mem_heap.c \
                             $(NATIVE_HDR) | native-toolchain
	cc $(NATIVE_CFLAGS) $(NATIVE_WARN) -o $@ $(filter %.c %.o,$^) -lm

build/native/pfs-sha256: native/sha256/sha256.c native/sha256/sha256_tool.c native/sha256/sha256.h | native-toolchain
	@mkdir -p $(@D)
	cc -std=gnu11 -O2 $(NATIVE_WARN) -Inative/sha256 -o $@ $(filter %.c,$^)

# The C phone (native/phone/): each part brings its own fragment, which adds
# its programs to PHONE_PARTS; `make phone-parts` builds them all.
PHONE_DIR := build/native/phone
PHONE_CFLAGS := -std=gnu11 -O2 $(NATIVE_WARN) -Inative/phone
PHONE_PARTS :=
include $(wildcard native/phone/*.mk)
.PHONY: phone-toolchain phone-parts
phone-toolchain:
	@bash native/toolchain.sh phone
phone-parts: $(PHONE_PARTS)

board: board-known $(BOARD_DIR)/pfs.elf
.PHONY: board-known
board-known:
	@test -f boards/$(BOARD).json || { echo "make board: no board '$(BOARD)' in boards/ (boards with an image: $$(grep -l '"image"' boards/*.json | xargs -n1 basename | sed 's/.json//' | tr '\n' ' '))" >&2; exit 2; }

# board.h (linear memory, stack), board.ld (memory map) and cpu-flags, from
# boards/$(BOARD).json resolved through its "inherits" chain.
$(BOARD_DIR)/board.h: boards/$(BOARD).json $(wildcard boards/*.json) build/js/.built | board-toolchain
	node build/js/host/tools/board-header.js $(BOARD) $(BOARD_DIR)
	@touch $@

$(BOARD_DIR)/pfs.o: $(W2C_C) $(BOARD_DIR)/board.h | board-toolchain
	$(BOARD_CC) $(BOARD_CFLAGS) $(W2C_FLAGS) -c $< -o $@

$(BOARD_DIR)/pfs.elf: $(BOARD_DIR)/pfs.o $(BOARD_DIR)/board.h $(NATIVE_CORE_SRC) $(NATIVE_REPLAY_SRC) native/rt/mem_static.c \
                      $(wildcard native/board/*) $(NATIVE_HDR) | board-toolchain
	$(BOARD_CC) $(BOARD_CFLAGS) $(NATIVE_WARN) -specs=nano.specs -specs=rdimon.specs -u _printf_float -nostartfiles \
	  -T native/board/board.ld -L$(BOARD_DIR) -Wl,--gc-sections -Wl,-Map=$(BOARD_DIR)/pfs.map -o $@ \
	  $(filter %.c %.o,$^) -lm
	arm-none-eabi-size $@

clean:
	rm -rf build
