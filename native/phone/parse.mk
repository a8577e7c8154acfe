# pfs-parse: the configuration (expat) and .loads (libcrypto) parsers of the
# C phone, driven by tests/host/native-phone-parse.test.ts.
PHONE_PARTS += $(PHONE_DIR)/pfs-parse
PARSE_SRC := native/phone/parse_tool.c native/phone/config.c native/phone/loads.c
$(PHONE_DIR)/pfs-parse: $(PARSE_SRC) native/phone/config.h native/phone/loads.h native/phone/err.h | phone-toolchain
	@mkdir -p $(dir $@)
	$(CC) $(PHONE_CFLAGS) -o $@ $(PARSE_SRC) -lexpat -lcrypto
