/*
 * replay.c: run a libFuzzer harness over saved inputs, without libFuzzer.
 *
 * make check builds each harness with this main() and runs it on the seed
 * corpus and on every input a fuzzing run ever found to crash (the
 * regression inputs), so those stay fixed in ordinary and sanitizer
 * builds alike. Usage: replay_X FILE...
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		unsigned char *data = NULL;
		size_t len = 0, cap = 0, n;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 4096;
				data = realloc(data, cap);
				if (data == NULL)
					return 1;
			}
			n = fread(data + len, 1, cap - len, f);
			len += n;
		} while (n > 0);
		fclose(f);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	printf("%d passed, 0 failed\n", argc - 1);
	return 0;
}
