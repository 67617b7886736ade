/*
 * Test oracle: decodes an Intel PT stream with Intel's libipt and prints what it saw, for the
 * fasmcov trace tests to compare against their own decoders. Built with gcc at test time.
 *
 *   ipt-oracle pkt  TRACE                       one line per packet (libipt's packet decoder)
 *   ipt-oracle insn TRACE FILE:OFF:SIZE:ADDR... instruction flow over the image (pt_insn_*):
 *       "I <ip> <count>" per instruction address, "E <from> <to> <count>" per control transfer,
 *       "X <offset> <error>" per error, "N <instructions>" at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-pt.h>

static uint8_t *read_file(const char *name, size_t *size) {
	FILE *f = fopen(name, "rb");
	if (!f) {
		perror(name);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(name);
		exit(2);
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static int dump_packets(struct pt_config *config) {
	struct pt_packet_decoder *d = pt_pkt_alloc_decoder(config);
	int status = pt_pkt_sync_forward(d);
	if (status < 0) {
		printf("X 0 %s\n", pt_errstr(pt_errcode(status)));
		return 0;
	}
	for (;;) {
		struct pt_packet p;
		uint64_t off = 0;
		pt_pkt_get_offset(d, &off);
		status = pt_pkt_next(d, &p, sizeof(p));
		if (status == -pte_eos) break;
		if (status < 0) {
			printf("X %" PRIu64 " %s\n", off, pt_errstr(pt_errcode(status)));
			break;
		}
		printf("%" PRIu64 " ", off);
		switch (p.type) {
		case ppt_pad: printf("pad\n"); break;
		case ppt_psb: printf("psb\n"); break;
		case ppt_psbend: printf("psbend\n"); break;
		case ppt_ovf: printf("ovf\n"); break;
		case ppt_stop: printf("tracestop\n"); break;
		case ppt_tnt_8:
		case ppt_tnt_64:
			printf("tnt %u %" PRIx64 "\n", p.payload.tnt.bit_size, p.payload.tnt.payload);
			break;
		case ppt_tip:
		case ppt_tip_pge:
		case ppt_tip_pgd:
		case ppt_fup: {
			const char *name = p.type == ppt_tip ? "tip" : p.type == ppt_tip_pge ? "tip-pge"
				: p.type == ppt_tip_pgd ? "tip-pgd" : "fup";
			printf("%s %d %" PRIx64 "\n", name, (int)p.payload.ip.ipc, p.payload.ip.ip);
			break;
		}
		case ppt_mode:
			if (p.payload.mode.leaf == pt_mol_exec)
				printf("mode-exec %u %u\n", p.payload.mode.bits.exec.csl, p.payload.mode.bits.exec.csd);
			else
				printf("mode-tsx %u %u\n", p.payload.mode.bits.tsx.intx, p.payload.mode.bits.tsx.abrt);
			break;
		case ppt_cbr: printf("cbr %u\n", p.payload.cbr.ratio); break;
		case ppt_tsc: printf("tsc %" PRIx64 "\n", p.payload.tsc.tsc); break;
		case ppt_mtc: printf("mtc %u\n", p.payload.mtc.ctc); break;
		case ppt_cyc: printf("cyc %" PRIu64 "\n", p.payload.cyc.value); break;
		default: printf("other %d\n", (int)p.type); break;
		}
	}
	pt_pkt_free_decoder(d);
	return 0;
}

/* Open-addressing counters keyed by (a, b) pairs; b = 0 for per-instruction counts. */
#define SLOTS (1u << 20)
struct slot {
	uint64_t a, b, n;
	int used;
};
static struct slot *insn_counts, *edge_counts;

static void bump(struct slot *t, uint64_t a, uint64_t b) {
	uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full);
	for (uint32_t i = (uint32_t)(h >> 44) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		if (!t[i].used) {
			t[i].used = 1;
			t[i].a = a;
			t[i].b = b;
		}
		if (t[i].a == a && t[i].b == b) {
			t[i].n++;
			return;
		}
	}
}

static int decode_insns(struct pt_config *config, int argc, char **argv) {
	struct pt_insn_decoder *d = pt_insn_alloc_decoder(config);
	struct pt_image *image = pt_insn_get_image(d);
	for (int i = 0; i < argc; i++) {
		char *spec = strdup(argv[i]);
		char *last = strrchr(spec, ':');
		uint64_t addr = strtoull(last + 1, NULL, 0);
		*last = 0;
		last = strrchr(spec, ':');
		uint64_t size = strtoull(last + 1, NULL, 0);
		*last = 0;
		last = strrchr(spec, ':');
		uint64_t off = strtoull(last + 1, NULL, 0);
		*last = 0;
		int status = pt_image_add_file(image, spec, off, size, NULL, addr);
		if (status < 0) {
			fprintf(stderr, "cannot add %s: %s\n", spec, pt_errstr(pt_errcode(status)));
			return 2;
		}
		free(spec);
	}
	insn_counts = calloc(SLOTS, sizeof(struct slot));
	edge_counts = calloc(SLOTS, sizeof(struct slot));
	uint64_t total = 0;
	for (;;) {
		int status = pt_insn_sync_forward(d);
		if (status < 0) {
			if (status != -pte_eos) printf("X 0 %s\n", pt_errstr(pt_errcode(status)));
			break;
		}
		/* The last instruction whose successor makes an edge (a branch), if any. */
		int have_prev = 0;
		struct pt_insn prev;
		memset(&prev, 0, sizeof(prev));
		for (;;) {
			while (status & pts_event_pending) {
				struct pt_event ev;
				status = pt_insn_event(d, &ev, sizeof(ev));
				if (status < 0) break;
				if (ev.type == ptev_disabled && have_prev && !ev.ip_suppressed)
					bump(edge_counts, prev.ip, ev.variant.disabled.ip);
				/* Asynchronous events happen before the instruction at `from`/`at`: the
				 * previous branch went there. */
				if (ev.type == ptev_async_branch) {
					if (have_prev) bump(edge_counts, prev.ip, ev.variant.async_branch.from);
					bump(edge_counts, ev.variant.async_branch.from, ev.variant.async_branch.to);
				}
				if (ev.type == ptev_async_disabled) {
					if (have_prev) bump(edge_counts, prev.ip, ev.variant.async_disabled.at);
					if (!ev.ip_suppressed)
						bump(edge_counts, ev.variant.async_disabled.at, ev.variant.async_disabled.ip);
				}
				if (ev.type == ptev_disabled || ev.type == ptev_async_disabled ||
				    ev.type == ptev_async_branch || ev.type == ptev_enabled)
					have_prev = 0;
			}
			if (status < 0) break;
			struct pt_insn insn;
			status = pt_insn_next(d, &insn, sizeof(insn));
			if (insn.iclass != ptic_error) {
				total++;
				bump(insn_counts, insn.ip, 0);
				if (have_prev) bump(edge_counts, prev.ip, insn.ip);
				have_prev = insn.iclass != ptic_other;
				prev = insn;
			}
			if (status < 0) break;
		}
		if (status == -pte_eos) break;
		uint64_t off = 0;
		pt_insn_get_offset(d, &off);
		printf("X %" PRIu64 " %s\n", off, pt_errstr(pt_errcode(status)));
	}
	for (uint32_t i = 0; i < SLOTS; i++)
		if (insn_counts[i].used) printf("I %" PRIx64 " %" PRIu64 "\n", insn_counts[i].a, insn_counts[i].n);
	for (uint32_t i = 0; i < SLOTS; i++)
		if (edge_counts[i].used)
			printf("E %" PRIx64 " %" PRIx64 " %" PRIu64 "\n", edge_counts[i].a, edge_counts[i].b, edge_counts[i].n);
	printf("N %" PRIu64 "\n", total);
	pt_insn_free_decoder(d);
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: ipt-oracle pkt|insn TRACE [FILE:OFF:SIZE:ADDR...]\n");
		return 2;
	}
	size_t size;
	uint8_t *buf = read_file(argv[2], &size);
	struct pt_config config;
	pt_config_init(&config);
	config.begin = buf;
	config.end = buf + size;
	if (!strcmp(argv[1], "pkt")) return dump_packets(&config);
	if (!strcmp(argv[1], "insn")) return decode_insns(&config, argc - 3, argv + 3);
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
