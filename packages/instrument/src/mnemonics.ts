// Word lists the instrumenter classifies source lines by. A line is probed only when its first word
// is a known instruction: anything unknown is reported, never guessed at.

const words = (s: string): string[] => s.trim().split(/\s+/);

/** Conditional jumps and the one that jumps in the opposite case. */
const JCC_PAIRS: Array<[string, string]> = [
  ['ja', 'jna'],
  ['jnbe', 'jbe'],
  ['jae', 'jnae'],
  ['jnb', 'jb'],
  ['jnc', 'jc'],
  ['je', 'jne'],
  ['jz', 'jnz'],
  ['jg', 'jng'],
  ['jnle', 'jle'],
  ['jge', 'jnge'],
  ['jnl', 'jl'],
  ['jo', 'jno'],
  ['jp', 'jnp'],
  ['jpe', 'jpo'],
  ['js', 'jns'],
];

const JCC_INVERSE = new Map<string, string>();
for (const [a, b] of JCC_PAIRS) {
  JCC_INVERSE.set(a, b);
  JCC_INVERSE.set(b, a);
}

/** rel8-only conditional branches: they need a trampoline rather than an inverted jump. */
const LOOP_FAMILY = new Set(
  words(`loop loopd loopw loope looped loopew loopz loopzd loopzw loopne loopned loopnew
    loopnz loopnzd loopnzw jcxz jecxz`),
);

const PREFIXES = new Set(words('lock rep repe repz repne repnz xacquire xrelease'));

const INTEGER = `aaa aad aam aas adc add and arpl bound bsf bsr bswap bt btc btr bts call cbw cdq clc cld
  cli clts cmc cmova cmovae cmovb cmovbe cmovc cmove cmovg cmovge cmovl cmovle cmovna cmovnae cmovnb
  cmovnbe cmovnc cmovne cmovng cmovnge cmovnl cmovnle cmovno cmovnp cmovns cmovnz cmovo cmovp cmovpe
  cmovpo cmovs cmovz cmp cmps cmpsb cmpsw cmpsd cmpxchg cmpxchg8b cpuid cwd cwde daa das dec div
  enter hlt idiv imul in inc ins insb insw insd int int1 int3 into invd invlpg iret iretw iretd jmp
  lahf lar lds lea leave les lfs lgdt lgs lidt lldt lmsw lods lodsb lodsw lodsd lsl lss ltr mov movs
  movsb movsw movsd movsx movzx mul neg nop not or out outs outsb outsw outsd pop popa popaw popad
  popf popfw popfd push pusha pushaw pushad pushd pushw pushf pushfw pushfd rcl rcr rdmsr rdpmc rdtsc
  rdtscp ret retn retf retw retd retnw retnd retfw retfd rol ror rsm sahf sal salc sar sbb scas scasb
  scasw scasd seta setae setb setbe setc sete setg setge setl setle setna setnae setnb setnbe setnc
  setne setng setnge setnl setnle setno setnp setns setnz seto setp setpe setpo sets setz sgdt shl
  shld shr shrd sidt sldt smsw stc std sti stos stosb stosw stosd str sub sysenter sysexit syscall
  sysret test ud2 ud1 ud0 verr verw wait wbinvd wrmsr xadd xchg xlat xlatb xor pause mfence lfence
  sfence clflush prefetch prefetchw prefetchnta prefetcht0 prefetcht1 prefetcht2 monitor mwait
  popcnt lzcnt tzcnt movbe crc32 andn bextr blsi blsmsk blsr bzhi mulx pdep pext rorx sarx shlx shrx
  adcx adox rdrand rdseed xgetbv xsetbv fxsave fxrstor xsave xrstor ldmxcsr stmxcsr emms femms`;

const X87 = `f2xm1 fabs fadd faddp fbld fbstp fchs fclex fnclex fcmovb fcmove fcmovbe fcmovu fcmovnb
  fcmovne fcmovnbe fcmovnu fcom fcomp fcompp fcomi fcomip fucomi fucomip fcos fdecstp fdiv fdivp
  fdivr fdivrp ffree ffreep fiadd ficom ficomp fidiv fidivr fild fimul fincstp finit fninit fist
  fistp fisttp fisub fisubr fld fld1 fldcw fldenv fldl2e fldl2t fldlg2 fldln2 fldpi fldz fmul fmulp
  fnop fpatan fprem fprem1 fptan frndint frstor fsave fnsave fscale fsin fsincos fsqrt fst fstcw
  fnstcw fstenv fnstenv fstp fstsw fnstsw fsub fsubp fsubr fsubrp ftst fucom fucomp fucompp fwait
  fxam fxch fxtract fyl2x fyl2xp1`;

const SIMD = `movd movq packsswb packssdw packuswb paddb paddw paddd paddq paddsb paddsw paddusb paddusw
  pand pandn pcmpeqb pcmpeqw pcmpeqd pcmpgtb pcmpgtw pcmpgtd pmaddwd pmulhw pmullw por psllw pslld
  psllq psraw psrad psrlw psrld psrlq psubb psubw psubd psubq psubsb psubsw psubusb psubusw punpckhbw
  punpckhwd punpckhdq punpcklbw punpcklwd punpckldq pxor pavgb pavgw pextrw pinsrw pmaxsw pmaxub
  pminsw pminub pmovmskb pmulhuw psadbw pshufw pshufd pshufhw pshuflw pshufb pmuludq movdqa movdqu
  movaps movups movapd movupd movss movlps movhps movlpd movhpd movhlps movlhps movmskps movmskpd
  movntq movntps movntpd movntdq movnti maskmovq maskmovdqu addps addss addpd addsd subps subss subpd
  subsd mulps mulss mulpd mulsd divps divss divpd divsd sqrtps sqrtss sqrtpd sqrtsd maxps maxss maxpd
  maxsd minps minss minpd minsd andps andnps orps xorps andpd andnpd orpd xorpd cmpps cmpss cmppd
  comiss comisd ucomiss ucomisd shufps shufpd unpckhps unpcklps unpckhpd unpcklpd cvtpi2ps cvtps2pi
  cvttps2pi cvtsi2ss cvtss2si cvttss2si cvtsi2sd cvtsd2si cvttsd2si cvtss2sd cvtsd2ss cvtps2pd
  cvtpd2ps cvtdq2ps cvtps2dq cvttps2dq cvtdq2pd cvtpd2dq cvttpd2dq cvtpi2pd cvtpd2pi cvttpd2pi rcpps
  rcpss rsqrtps rsqrtss punpckhqdq punpcklqdq pslldq psrldq movdq2q movq2dq lddqu addsubps addsubpd
  haddps haddpd hsubps hsubpd movshdup movsldup movddup palignr pabsb pabsw pabsd phaddw phaddd
  phsubw phsubd pmaddubsw pmulhrsw psignb psignw psignd pblendw blendps blendpd pblendvb blendvps
  blendvpd dpps dppd extractps insertps pextrb pextrd pinsrb pinsrd pmaxsb pmaxsd pmaxuw pmaxud
  pminsb pminsd pminuw pminud pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq pmovzxbw
  pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq pmuldq pmulld ptest roundps roundss roundpd roundsd
  mpsadbw packusdw pcmpeqq pcmpgtq phminposuw movntdqa pcmpestri pcmpestrm pcmpistri pcmpistrm
  aesenc aesenclast aesdec aesdeclast aesimc aeskeygenassist pclmulqdq`;

const INSTRUCTIONS = new Set([
  ...words(INTEGER),
  ...words(X87),
  ...words(SIMD),
  ...JCC_INVERSE.keys(),
  ...LOOP_FAMILY,
  ...PREFIXES,
]);

/** Data definitions and reservations: bytes, but never executed as such. */
const DATA = new Set(words('db dw du dd dp df dq dt rb rw rd rp rf rq rt file'));

/** Directives that emit bytes without being instructions (padding). */
const PADDING = new Set(words('align'));

export function isInstruction(word: string): boolean {
  return INSTRUCTIONS.has(word.toLowerCase());
}

export function isPrefix(word: string): boolean {
  return PREFIXES.has(word.toLowerCase());
}

export function isData(word: string): boolean {
  return DATA.has(word.toLowerCase());
}

export function isPadding(word: string): boolean {
  return PADDING.has(word.toLowerCase());
}

/** The inverse of a conditional jump (`jz` → `jnz`), or undefined when `word` is none. */
export function invertJcc(word: string): string | undefined {
  return JCC_INVERSE.get(word.toLowerCase());
}

export function isLoopFamily(word: string): boolean {
  return LOOP_FAMILY.has(word.toLowerCase());
}
