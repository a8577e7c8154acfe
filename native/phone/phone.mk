# The C phone, build/native/pfs-phone (main.c and the parts it drives):
# `make native` builds it. The core as in peer.mk (wasm2c, env.sha256 from
# libcrypto); expat for the configuration. Its board table,
# build/gen/pfs_boards.h, is generated from boards/*.json by
# host/tools/boards-c.ts, so the C phone and the Node one share the figures.
# build/native/asan/pfs-phone is the same phone built with
# -fsanitize=address,undefined (tests/host/fleet-mixed.test.ts runs a mixed
# fleet on it when PFS_NATIVE_ASAN=1, `make test-native-asan`).
PHONE_PARTS += build/native/pfs-phone
PHONE_MAIN_SRC := native/phone/main.c native/phone/phone_boot.c native/phone/phone_upgrade.c native/phone/console.c native/phone/drop_log.c \
                  native/phone/syslog.c native/phone/syslog_out.c \
                  native/phone/board.c native/phone/config.c native/phone/loads.c native/phone/tftp.c $(PEER_SRC) \
                  $(PHONE_FLASH_SRC)
PHONE_SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -g
.PHONY: native native-asan test-native-asan
native: build/native/pfs-phone
native-asan: build/native/asan/pfs-phone
test-native-asan: build/js/.built native-asan
	PFS_NATIVE_ASAN=1 node --test build/js/tests/host/fleet-mixed.test.js

build/gen/pfs_boards.h: $(wildcard boards/*.json) build/js/.built
	@mkdir -p $(@D)
	node build/js/host/tools/boards-c.js $@

PHONE_DEPS := build/native/pfs.o $(PEER_CORE_SRC) $(PHONE_MAIN_SRC) $(wildcard native/phone/*.h) build/gen/pfs_boards.h $(NATIVE_HDR)
PHONE_LINK = cc $(PHONE_CFLAGS) -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 $(NATIVE_INC) -DPFS_SHA256_OPENSSL -o $@ \
	  $(filter %.c %.o,$^) -lexpat -lcrypto -lm
build/native/pfs-phone: $(PHONE_DEPS) | phone-toolchain
	@mkdir -p $(@D)
	$(PHONE_LINK)
build/native/asan/pfs-phone: $(PHONE_DEPS) | phone-toolchain
	@mkdir -p $(@D)
	$(PHONE_LINK) $(PHONE_SAN_FLAGS)
