/* System calls made with a hostile user stack pointer (in the request blocks, then non-canonical):
 * the firmware must not use the user stack. getpid must return > 0, then exit_group(3). */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	mov	$ISOVM_HCBLOCK_GPA + 0x80, %esp
	mov	$39, %eax		/* getpid */
	syscall
	mov	%rax, %rbx
	movabs	$0x8000000000000000, %rsp
	mov	$39, %eax
	syscall
	test	%rbx, %rbx
	jle	1f
	test	%rax, %rax
	jle	1f
	xor	%esp, %esp
	mov	$231, %eax		/* exit_group(3) */
	mov	$3, %edi
	syscall
1:	mov	$231, %eax		/* exit_group(1) */
	mov	$1, %edi
	syscall
	hlt
