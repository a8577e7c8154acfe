# The PFS sockets and the core host (net.c, peer.c) and their test program,
# build/native/phone/pfs-peer: a PFS peer for one file (peer_tool.c).
# env.sha256 is OpenSSL's EVP SHA-256 (-DPFS_SHA256_OPENSSL, peer.c), so our
# own native/sha256/sha256.c is left out of the core's sources here.
# --board NAME is a row of build/gen/pfs_boards.h (board.c, which checks the
# board's flash layout with the flash part; phone.mk makes the header).
PHONE_PARTS += $(PHONE_DIR)/pfs-peer
PEER_SRC := native/phone/net.c native/phone/peer.c
PEER_CORE_SRC := $(filter-out native/sha256/sha256.c,$(NATIVE_CORE_SRC)) native/rt/mem_heap.c
PEER_SAN ?=

# PHONE_FLASH_SRC: flash.mk, included before this file (native/phone/*.mk in order).
$(PHONE_DIR)/pfs-peer: build/native/pfs.o $(PEER_CORE_SRC) $(PEER_SRC) native/phone/peer_tool.c native/phone/board.c \
                       $(PHONE_FLASH_SRC) native/phone/net.h native/phone/peer.h native/phone/board.h \
                       native/phone/flash.h native/phone/err.h build/gen/pfs_boards.h $(NATIVE_HDR) | phone-toolchain
	@mkdir -p $(@D)
	cc $(PHONE_CFLAGS) $(PEER_SAN) -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 $(NATIVE_INC) -DPFS_SHA256_OPENSSL -o $@ \
	  $(filter %.c %.o,$^) -lcrypto -lm
