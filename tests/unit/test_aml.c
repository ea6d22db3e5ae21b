/*
 * test_aml.c: the AML builder against byte strings worked out from the
 * ACPI 6.5 grammar (chapter 20) and resource descriptor layouts (6.4);
 * the expected bytes match what an ASL compiler emits for the same ASL.
 */
#include <errno.h>
#include "test.h"
#include "arch/x86/aml.h"

/* Compare the builder's whole output with an expected byte string. */
static int
same(const struct aml *a, const uint8_t *want, size_t len)
{
	size_t i;

	if (a->a_len != len) {
		printf("  length %zu, want %zu\n", a->a_len, len);
		return (0);
	}
	for (i = 0; i < len; i++) {
		if (a->a_buf[i] != want[i]) {
			printf("  byte %zu: 0x%02x, want 0x%02x\n", i,
			    a->a_buf[i], want[i]);
			return (0);
		}
	}
	return (1);
}
#define CHECK_AML(a, ...) do {						\
	static const uint8_t __w[] = { __VA_ARGS__ };			\
	CHECK(same((a), __w, sizeof(__w)));				\
} while (0)

TEST(pkglength_boundaries)
{
	uint8_t b[4];

	CHECK_EQ(aml_pkglength_encode(0, b), 1);
	CHECK_EQ(b[0], 0x00);
	CHECK_EQ(aml_pkglength_encode(63, b), 1);
	CHECK_EQ(b[0], 0x3f);
	CHECK_EQ(aml_pkglength_encode(64, b), 2);
	CHECK_EQ(b[0], 0x40);
	CHECK_EQ(b[1], 0x04);
	CHECK_EQ(aml_pkglength_encode(4095, b), 2);
	CHECK_EQ(b[0], 0x4f);
	CHECK_EQ(b[1], 0xff);
	CHECK_EQ(aml_pkglength_encode(4096, b), 3);
	CHECK_EQ(b[0], 0x80);
	CHECK_EQ(b[1], 0x00);
	CHECK_EQ(b[2], 0x01);
	CHECK_EQ(aml_pkglength_encode(0xfffff, b), 3);
	CHECK_EQ(b[0], 0x8f);
	CHECK_EQ(b[1], 0xff);
	CHECK_EQ(b[2], 0xff);
	CHECK_EQ(aml_pkglength_encode(0x100000, b), 4);
	CHECK_EQ(b[0], 0xc0);
	CHECK_EQ(b[1], 0x00);
	CHECK_EQ(b[2], 0x00);
	CHECK_EQ(b[3], 0x01);
	CHECK_EQ(aml_pkglength_encode(AML_PKGLEN_MAX, b), 4);
	CHECK_EQ(b[0], 0xcf);
	CHECK_EQ(b[3], 0xff);
	CHECK_EQ(aml_pkglength_encode(AML_PKGLEN_MAX + 1, b), 0);
}

/*
 * Scope (FOO) holding k raw bytes: the PkgLength covers itself, the
 * 4-byte NameSeg and the k bytes, and must grow by a byte exactly when
 * the total crosses 63 and 4095.
 */
static void
scope_of(struct aml *a, size_t k)
{
	static uint8_t fill[8192];

	aml_init(a);
	aml_scope_begin(a, "FOO");
	aml_bytes(a, fill, k);
	aml_end(a);
}

TEST(pkglength_backpatch)
{
	struct aml a;

	scope_of(&a, 58);			/* 1 + 4 + 58 = 63 */
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.a_len, 1 + 63);
	CHECK_EQ(a.a_buf[0], AML_SCOPE_OP);
	CHECK_EQ(a.a_buf[1], 0x3f);
	CHECK_EQ(a.a_buf[2], 'F');
	aml_free(&a);

	scope_of(&a, 59);			/* 2 + 4 + 59 = 65 */
	CHECK_EQ(a.a_len, 1 + 65);
	CHECK_EQ(a.a_buf[1], 0x41);
	CHECK_EQ(a.a_buf[2], 0x04);
	CHECK_EQ(a.a_buf[3], 'F');
	aml_free(&a);

	scope_of(&a, 4089);			/* 2 + 4 + 4089 = 4095 */
	CHECK_EQ(a.a_len, 1 + 4095);
	CHECK_EQ(a.a_buf[1], 0x4f);
	CHECK_EQ(a.a_buf[2], 0xff);
	CHECK_EQ(a.a_buf[3], 'F');
	aml_free(&a);

	scope_of(&a, 4090);			/* 3 + 4 + 4090 = 4097 */
	CHECK_EQ(a.a_len, 1 + 4097);
	CHECK_EQ(a.a_buf[1], 0x81);
	CHECK_EQ(a.a_buf[2], 0x00);
	CHECK_EQ(a.a_buf[3], 0x01);
	CHECK_EQ(a.a_buf[4], 'F');
	aml_free(&a);
}

TEST(nested_lengths)
{
	struct aml a;

	/* Scope (\_SB) { Device (PCI0) {} } */
	aml_init(&a);
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "PCI0");
	aml_end(&a);
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a, 0x10, 0x0d, 0x5c, '_', 'S', 'B', '_',
	    0x5b, 0x82, 0x05, 'P', 'C', 'I', '0');
	aml_free(&a);
}

TEST(integers)
{
	struct aml a;

	aml_init(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x12345678);
	aml_integer(&a, 0x123456789aULL);
	aml_integer(&a, UINT64_MAX);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
	    0x0c, 0x78, 0x56, 0x34, 0x12,
	    0x0e, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00,
	    0xff);
	aml_free(&a);
}

TEST(strings_and_names)
{
	struct aml a;

	aml_init(&a);
	aml_name_string(&a, "STR", "ab");
	aml_namestring(&a, "\\_SB.PCI0.FOO");
	aml_namestring(&a, "^^AB");
	aml_namestring(&a, "\\");
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a, 0x08, 'S', 'T', 'R', '_', 0x0d, 'a', 'b', 0x00,
	    0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	    'F', 'O', 'O', '_',
	    0x5e, 0x5e, 'A', 'B', '_', '_',
	    0x5c, 0x00);
	aml_free(&a);
}

TEST(bad_names_fail)
{
	static const char *const bad[] = {
		"ABCDE", "1ABC", "abc", "A..B", "A.", "\\\\A", "^\\A", "A-B",
	};
	struct aml a;
	unsigned i;

	for (i = 0; i < nitems(bad); i++) {
		aml_init(&a);
		aml_name_integer(&a, bad[i], 1);
		CHECK_EQ(aml_finish(&a), -EINVAL);
		aml_free(&a);
	}
	aml_init(&a);
	aml_string(&a, "caf\xc3\xa9");
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

TEST(eisaid)
{
	struct aml a;
	uint32_t v;

	CHECK_EQ(aml_eisaid("PNP0A03", &v), 0);
	CHECK_EQ(v, 0x030ad041);
	CHECK_EQ(aml_eisaid("PNP0501", &v), 0);
	CHECK_EQ(v, 0x0105d041);
	CHECK_EQ(aml_eisaid("pnp0a03", &v), -EINVAL);
	CHECK_EQ(aml_eisaid("PNP0A0", &v), -EINVAL);
	CHECK_EQ(aml_eisaid("PNP0A0G", &v), -EINVAL);

	aml_init(&a);
	aml_name_eisaid(&a, "_HID", "PNP0A03");
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a, 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	aml_free(&a);
}

TEST(method_package_buffer)
{
	struct aml a;

	aml_init(&a);
	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	aml_method_begin(&a, "_STA", 0, false);
	aml_return_integer(&a, 0x0f);
	aml_end(&a);
	/* Method (FOO, 2, Serialized) { Return (0x12345678) } */
	aml_method_begin(&a, "FOO", 2, true);
	aml_return_integer(&a, 0x12345678);
	aml_end(&a);
	/* Name (BUF, Buffer () { 1, 2, 3 }) */
	aml_name(&a, "BUF");
	aml_buffer_begin(&a);
	aml_bytes(&a, "\x01\x02\x03", 3);
	aml_end(&a);
	/* Package () { 5, 5, 0, 0 } */
	aml_package_begin(&a, 4);
	aml_integer(&a, 5);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a,
	    0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f,
	    0x14, 0x0c, 'F', 'O', 'O', '_', 0x0a, 0xa4,
	    0x0c, 0x78, 0x56, 0x34, 0x12,
	    0x08, 'B', 'U', 'F', '_', 0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03,
	    0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);
	aml_free(&a);
}

TEST(small_descriptors)
{
	struct aml a;
	unsigned i, sum;

	aml_init(&a);
	aml_restemplate_begin(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 4);
	aml_restemplate_end(&a);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.a_len, 17);
	/* Buffer (0x0D) { IO, IRQNoFlags, End Tag }, checksum apart. */
	CHECK(a.a_len == 17 && memcmp(a.a_buf, "\x11\x10\x0a\x0d"
	    "\x47\x01\xf8\x03\xf8\x03\x01\x08" "\x22\x10\x00" "\x79",
	    16) == 0);
	for (sum = 0, i = 4; i < a.a_len; i++)
		sum += a.a_buf[i];
	CHECK_EQ(sum & 0xff, 0);
	aml_free(&a);

	aml_init(&a);
	aml_res_irq_noflags(&a, 16);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

TEST(large_descriptors)
{
	struct aml a;

	aml_init(&a);
	aml_res_fixed_mem32(&a, true, 0xfed00000, 0x400);
	aml_res_ext_irq(&a, AML_IRQ_CONSUMER, 5);
	aml_res_ext_irq(&a, AML_IRQ_CONSUMER | AML_IRQ_EDGE |
	    AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED, 33);
	aml_res_dword_mem(&a, true, 0x1000, 0x1fff);
	aml_res_word_bus(&a, 0, 255);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_AML(&a,
	    0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe,
	    0x00, 0x04, 0x00, 0x00,
	    0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00,
	    0x89, 0x06, 0x00, 0x0f, 0x01, 0x21, 0x00, 0x00, 0x00,
	    0x87, 0x17, 0x00, 0x00, 0x0c, 0x03,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	    0xff, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x10, 0x00, 0x00,
	    0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01);
	aml_free(&a);
}

TEST(qword_and_io_windows)
{
	struct aml a;

	aml_init(&a);
	aml_res_qword_mem(&a, false, 0x800000000ULL, 0xfffffffffULL);
	aml_res_dword_io(&a, 0xd00, 0xffff);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.a_len, 46 + 26);
	CHECK_EQ(a.a_buf[0], 0x8a);
	CHECK_EQ(a.a_buf[1], 0x2b);
	CHECK_EQ(a.a_buf[3], AML_ADDR_MEM);
	CHECK_EQ(a.a_buf[5], 0x01);		/* non-cacheable, RW */
	CHECK_EQ(a.a_buf[14 + 4], 0x08);	/* min 0x8_0000_0000 */
	CHECK_EQ(a.a_buf[38 + 4], 0x08);	/* length 32 GiB */
	CHECK_EQ(a.a_buf[46], 0x87);
	CHECK_EQ(a.a_buf[46 + 3], AML_ADDR_IO);
	CHECK_EQ(a.a_buf[46 + 5], 0x03);	/* entire range */
	CHECK_EQ(a.a_buf[46 + 22], 0x00);	/* length 0xf300 */
	CHECK_EQ(a.a_buf[46 + 23], 0xf3);
	aml_free(&a);

	/* Backwards and unrepresentable windows are refused. */
	aml_init(&a);
	aml_res_dword_io(&a, 0x100, 0xff);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_dword_mem(&a, false, 0, 0xffffffff);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

TEST(misuse_is_reported)
{
	struct aml a;
	unsigned i;

	aml_init(&a);
	aml_end(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_scope_begin(&a, "A");
	CHECK_EQ(aml_finish(&a), -EINVAL);	/* left open */
	aml_free(&a);

	aml_init(&a);
	for (i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope_begin(&a, "A");
	CHECK_EQ(aml_finish(&a), -E2BIG);
	aml_free(&a);

	/* A resource template end needs an open buffer. */
	aml_init(&a);
	aml_scope_begin(&a, "A");
	aml_restemplate_end(&a);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);

	/* Errors are sticky: nothing is emitted after the first. */
	aml_init(&a);
	aml_method_begin(&a, "M", 8, false);
	aml_integer(&a, 5);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	CHECK_EQ(a.a_len, 0);
	aml_free(&a);

	aml_init(&a);
	aml_package_begin(&a, 256);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_free(&a);
}

TEST(output_is_capped)
{
	static uint8_t chunk[64 * 1024];
	struct aml a;
	unsigned i;

	aml_init(&a);
	for (i = 0; i <= AML_MAX_LEN / sizeof(chunk); i++)
		aml_bytes(&a, chunk, sizeof(chunk));
	CHECK_EQ(aml_finish(&a), -E2BIG);
	CHECK(a.a_len <= AML_MAX_LEN);
	aml_free(&a);
}

TEST_MAIN()
