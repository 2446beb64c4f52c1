/* rdmsr (LSTAR) in ring 3: #GP -> 139. */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	mov	$0xc0000082, %ecx
	rdmsr
	/* reached only if the instruction above was allowed */
	mov	$231, %eax	/* exit_group(0) */
	xor	%edi, %edi
	syscall
	hlt
