/*
 * vrnd: the entropy device (virtio 1.2 §5.4) as a guest driver uses it,
 * through the kit's virtio driver (kit/virtio.h): one request queue of
 * device-writable buffers.
 *
 * The guest finds the device, negotiates no feature (§5.4.3: there are
 * none), sets up requestq, and then:
 *   - posts 4 buffers of 64 bytes at once, one kick: each comes back full
 *     (used length 64), not all zeroes, and no two alike;
 *   - a chain of 3 buffers (16 + 100 + 1 bytes): used length 117, every
 *     part written (the bytes of each part are not all their fill value);
 *   - with MSI-X (modern): one buffer waited for by its interrupt.
 * Under QEMU it runs against virtio-rng-pci.  Command line: mode=legacy
 * (the 0.9.5 registers) or mode=modern; default: modern when offered.
 */
#include "kit.h"
#include "virtio.h"

#define NBUF	4
#define BUFLEN	64

static int
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return (0);
	return (1);
}

static int
same(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (0);
	return (1);
}

int
guest_main(void)
{
	struct virtio_dev vd;
	struct virtq q;
	struct virtq_buf b[3];
	enum virtio_mode mode = VIRTIO_AUTO;
	const char *m = arg_get("mode");
	uint8_t *buf[NBUF], *part[3];
	static const uint32_t plen[3] = { 16, 100, 1 };
	uint64_t t0;
	uint32_t len;
	int i, j, head, got;

	if (m != NULL && m[0] == 'l')
		mode = VIRTIO_LEGACY;
	else if (m != NULL && m[0] == 'm')
		mode = VIRTIO_MODERN;
	if (virtio_find(VIRTIO_ID_ENTROPY, 0, &vd) != 0) {
		printf("vrnd: no entropy device\n");
		return (1);
	}
	if (virtio_open(&vd, mode) != 0 || virtio_negotiate(&vd, 0) != 0 ||
	    virtq_setup(&vd, &q, 0, 0) != 0)
		return (1);
	virtio_driver_ok(&vd);
	printf("vrnd: device %x, %s, queue size %u\n", vd.device_id,
	    vd.legacy ? "legacy" : "modern", q.size);

	/* Four buffers at once. */
	for (i = 0; i < NBUF; i++) {
		buf[i] = virtio_alloc(BUFLEN, 16);
		GCHECK(buf[i] != NULL);
		b[0].addr = buf[i];
		b[0].len = BUFLEN;
		b[0].write = 1;
		GCHECK(virtq_add(&q, b, 1, 0) >= 0);
	}
	virtq_kick(&q);
	for (got = 0; got < NBUF; got++) {
		head = virtq_wait(&q, &len, VIRTQ_POLL, 2000);
		if (head < 0) {
			printf("vrnd: %d of %d buffers came back\n", got, NBUF);
			return (1);
		}
		GCHECK_EQ(len, BUFLEN);
	}
	for (i = 0; i < NBUF; i++) {
		GCHECK(!all_bytes(buf[i], BUFLEN, 0));
		for (j = 0; j < i; j++)
			GCHECK(!same(buf[i], buf[j], BUFLEN));
	}
	printf("vrnd: %d buffers of %d bytes filled, all different\n", NBUF,
	    BUFLEN);

	/* One chain of three parts, each filled with its own marker. */
	for (i = 0; i < 3; i++) {
		part[i] = virtio_alloc(plen[i], 1);
		GCHECK(part[i] != NULL);
		for (j = 0; j < (int)plen[i]; j++)
			part[i][j] = (uint8_t)(0xa0 + i);
		b[i].addr = part[i];
		b[i].len = plen[i];
		b[i].write = 1;
	}
	GCHECK(virtq_add(&q, b, 3, 0) >= 0);
	virtq_kick(&q);
	head = virtq_wait(&q, &len, VIRTQ_POLL, 2000);
	GCHECK(head >= 0);
	GCHECK_EQ(len, 117);
	/* A 1-byte part may by chance keep its marker: 1 in 256. */
	GCHECK(!all_bytes(part[0], plen[0], 0xa0));
	GCHECK(!all_bytes(part[1], plen[1], 0xa1));
	printf("vrnd: a chain of 3 buffers: %u bytes\n", (unsigned)len);

	/* By interrupt, where there is MSI-X. */
	if (!vd.legacy && virtio_msix_vector(&vd, 0) == 0 &&
	    virtq_set_vector(&q, 0) == 0) {
		b[0].addr = buf[0];
		b[0].len = BUFLEN;
		b[0].write = 1;
		GCHECK(virtq_add(&q, b, 1, 0) >= 0);
		virtq_kick(&q);
		head = virtq_wait(&q, &len, VIRTQ_INTR, 5000);
		GCHECK(head >= 0);
		GCHECK_EQ(len, BUFLEN);
		/* The used element can be seen before its interrupt lands. */
		t0 = rdtsc();
		while (virtio_intr_count[0] == 0 &&
		    rdtsc() - t0 < 5000 * guest_tsc_khz())
			__asm__ volatile("sti; nop; cli; pause" ::: "memory");
		GCHECK(virtio_intr_count[0] >= 1);
		printf("vrnd: by MSI-X: %u bytes, %lu interrupts\n",
		    (unsigned)len, virtio_intr_count[0]);
	}
	printf("vrnd: ok\n");
	return (kit_failures != 0);
}
