/*
 * driver.c: runs a fuzz target over files, without libFuzzer, so the
 * committed corpus and every crash ever found run in make check as
 * regression tests. Usage: fuzz_X FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char *argv[])
{
	FILE	*f;
	uint8_t	*p;
	long	 n;
	int	 i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		if ((p = malloc((size_t)n + 1)) == NULL ||
		    fread(p, 1, (size_t)n, f) != (size_t)n)
			return 1;
		fclose(f);
		LLVMFuzzerTestOneInput(p, (size_t)n);
		free(p);
	}
	printf("%d inputs ran\n", argc - 1);
	return 0;
}
