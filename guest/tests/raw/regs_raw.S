/* The syscall path preserves every register except rax, rcx and r11 (Linux ABI).
 * Exit status 0 if all are preserved, otherwise 10 + index of the first clobbered one
 * (rbx rbp r12 r13 r14 r15 rdx rsi rdi r8 r9 r10 rsp). */
	.text
	.globl _start
_start:
	movabs	$0x1111111111111111, %rbx
	movabs	$0x2222222222222222, %rbp
	movabs	$0x3333333333333333, %r12
	movabs	$0x4444444444444444, %r13
	movabs	$0x5555555555555555, %r14
	movabs	$0x6666666666666666, %r15
	mov	$0x100, %edx		/* rdx, rsi, rdi, r8, r9, r10: arguments of getpid (ignored) */
	mov	$0x200, %esi
	mov	$0x300, %edi
	mov	$0x400, %r8d
	mov	$0x500, %r9d
	mov	$0x600, %r10d
	mov	%rsp, %rax
	movq	%rax, %xmm0
	mov	$39, %eax
	syscall
	mov	$10, %ecx
	movabs	$0x1111111111111111, %rax
	cmp	%rax, %rbx
	jne	bad
	inc	%ecx
	movabs	$0x2222222222222222, %rax
	cmp	%rax, %rbp
	jne	bad
	inc	%ecx
	movabs	$0x3333333333333333, %rax
	cmp	%rax, %r12
	jne	bad
	inc	%ecx
	movabs	$0x4444444444444444, %rax
	cmp	%rax, %r13
	jne	bad
	inc	%ecx
	movabs	$0x5555555555555555, %rax
	cmp	%rax, %r14
	jne	bad
	inc	%ecx
	movabs	$0x6666666666666666, %rax
	cmp	%rax, %r15
	jne	bad
	inc	%ecx
	cmp	$0x100, %rdx
	jne	bad
	inc	%ecx
	cmp	$0x200, %rsi
	jne	bad
	inc	%ecx
	cmp	$0x300, %rdi
	jne	bad
	inc	%ecx
	cmp	$0x400, %r8
	jne	bad
	inc	%ecx
	cmp	$0x500, %r9
	jne	bad
	inc	%ecx
	cmp	$0x600, %r10
	jne	bad
	inc	%ecx
	movq	%xmm0, %rax
	cmp	%rax, %rsp
	jne	bad
	xor	%ecx, %ecx
bad:	mov	%ecx, %edi
	mov	$231, %eax
	syscall
	hlt
