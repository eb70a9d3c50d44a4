;; The model's memory-bound kernels as WebAssembly SIMD (f32x4), run in place on the tfjs wasm
;; backend's heap: the module imports that backend's memory and every function takes byte addresses
;; of tensors tfjs has already allocated. It owns no memory: no data segments, no globals, no stack,
;; locals only; each function writes nothing but the outputs (and scratch) it is given.
;; Compiled into kernels-wasm.ts by `node --import tsx scripts/build-kernels.ts`.
;;
;; Tensors are row-major [rows, ch] float32. Channel loops run four lanes at a time, then a scalar
;; tail for ch % 4. Long sums over rows never walk down a column: that strides by ch * 4 bytes, a
;; power of two for the model's widths, which maps to a few cache sets and thrashes (9x slower
;; measured at ch = 512 than at 516). They go row by row into a caller-provided scratch row instead,
;; which is added to the output every 64 rows, so rounding grows with rows / 64 rather than rows.
;; Counters are signed i32 (shapes stay far below 2^31); addresses are plain i32 arithmetic (wasm
;; reads them as unsigned, so all of the 4 GiB heap is reachable).
(module
  (import "env" "memory" (memory 0))

  ;; Sum of the four lanes in double precision.
  (func $hsum (param $v v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v))))))

  ;; Sum of n floats at $p, or of their squared deviations from $mean when $sq is set: f32x4 partial
  ;; sums over 1024 floats, then double.
  (func $sum (param $p i32) (param $n i32) (param $sq i32) (param $mean f32) (result f64)
    (local $total f64) (local $acc v128) (local $v v128) (local $m v128) (local $i i32) (local $end i32) (local $nv i32) (local $d f32)
    (local.set $m (f32x4.splat (local.get $mean)))
    (local.set $nv (i32.and (local.get $n) (i32.const -4)))
    (block $done (loop $blocks
      (br_if $done (i32.ge_s (local.get $i) (local.get $nv)))
      (local.set $end (i32.add (local.get $i) (i32.const 1024)))
      (if (i32.gt_s (local.get $end) (local.get $nv)) (then (local.set $end (local.get $nv))))
      (local.set $acc (v128.const f32x4 0 0 0 0))
      (loop $vec
        (local.set $v (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (if (local.get $sq)
          (then
            (local.set $v (f32x4.sub (local.get $v) (local.get $m)))
            (local.set $v (f32x4.mul (local.get $v) (local.get $v)))))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $vec (i32.lt_s (local.get $i) (local.get $end))))
      (local.set $total (f64.add (local.get $total) (call $hsum (local.get $acc))))
      (br $blocks)))
    (block $tail_done (loop $tail
      (br_if $tail_done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $d (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
      (if (local.get $sq) (then (local.set $d (f32.sub (local.get $d) (local.get $mean))) (local.set $d (f32.mul (local.get $d) (local.get $d)))))
      (local.set $total (f64.add (local.get $total) (f64.promote_f32 (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail)))
    (local.get $total))

  ;; exp(x) per lane (Cephes expf: 2^n times a degree-6 polynomial on |r| <= ln2/2; ~1 ulp). x is
  ;; clamped to [-87.3, 88] so that 2^n stays a normal float; NaN stays NaN.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (v128.const f32x4 88 88 88 88)) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $n) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; exp of one float (lane 0 of $exp4).
  (func $exp (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))

  ;; dst[i] += a[i] for i < n.
  (func $add_to (param $dst i32) (param $a i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_s (local.get $i) (local.get $vend)))
      (v128.store (i32.add (local.get $dst) (local.get $i))
        (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $i))) (v128.load (i32.add (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_s (local.get $i) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $i))
        (f32.add (f32.load (i32.add (local.get $dst) (local.get $i))) (f32.load (i32.add (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $s_loop))))

  ;; dst[i] += a[i] * b[i] for i < n.
  (func $add_product (param $dst i32) (param $a i32) (param $b i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $v_done (loop $v_loop
      (br_if $v_done (i32.ge_s (local.get $i) (local.get $vend)))
      (v128.store (i32.add (local.get $dst) (local.get $i))
        (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $i)))
          (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $i))) (v128.load (i32.add (local.get $b) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v_loop)))
    (block $s_done (loop $s_loop
      (br_if $s_done (i32.ge_s (local.get $i) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $i))
        (f32.add (f32.load (i32.add (local.get $dst) (local.get $i)))
          (f32.mul (f32.load (i32.add (local.get $a) (local.get $i))) (f32.load (i32.add (local.get $b) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $s_loop))))

  ;; Adds a scratch block sum to its output and clears it: dst[i] += tmp[i], tmp[i] = 0 for i < n.
  (func $flush (param $dst i32) (param $tmp i32) (param $n i32)
    (call $add_to (local.get $dst) (local.get $tmp) (local.get $n))
    (memory.fill (local.get $tmp) (i32.const 0) (i32.shl (local.get $n) (i32.const 2))))

  ;; Depthwise conv along time, "same" padding (k-1)/2, plus bias:
  ;; y[b, t, c] = bias[c] + sum_j w[j, c] * x[b, stride*t + j - pad, c] over the taps inside x.
  ;; x [batch, time, ch], w [k, ch], bias [ch], y [batch, tOut, ch].
  (func (export "depthwise")
    (param $x i32) (param $w i32) (param $bias i32) (param $y i32)
    (param $batch i32) (param $time i32) (param $tOut i32) (param $ch i32) (param $k i32) (param $stride i32)
    (local $row i32) (local $vecBytes i32) (local $pad i32) (local $b i32) (local $t i32) (local $base i32)
    (local $j0 i32) (local $j1 i32) (local $xr i32) (local $wr i32) (local $yr i32) (local $c i32) (local $j i32)
    (local $xp i32) (local $wp i32) (local $acc v128) (local $s f32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $pad (i32.shr_s (i32.sub (local.get $k) (i32.const 1)) (i32.const 1)))
    (local.set $yr (local.get $y))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $tOut)))
        ;; taps j0 <= j < j1 read rows base + j inside [0, time)
        (local.set $base (i32.sub (i32.mul (local.get $stride) (local.get $t)) (local.get $pad)))
        (local.set $j0 (select (i32.sub (i32.const 0) (local.get $base)) (i32.const 0) (i32.lt_s (local.get $base) (i32.const 0))))
        (local.set $j1 (i32.sub (local.get $time) (local.get $base)))
        (if (i32.gt_s (local.get $j1) (local.get $k)) (then (local.set $j1 (local.get $k))))
        (local.set $xr (i32.add (local.get $x)
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $time)) (i32.add (local.get $base) (local.get $j0))) (local.get $row))))
        (local.set $wr (i32.add (local.get $w) (i32.mul (local.get $j0) (local.get $row))))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (local.set $acc (v128.load (i32.add (local.get $bias) (local.get $c))))
          (local.set $xp (i32.add (local.get $xr) (local.get $c)))
          (local.set $wp (i32.add (local.get $wr) (local.get $c)))
          (local.set $j (local.get $j0))
          (block $j_done (loop $j_loop
            (br_if $j_done (i32.ge_s (local.get $j) (local.get $j1)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $wp)) (v128.load (local.get $xp)))))
            (local.set $xp (i32.add (local.get $xp) (local.get $row)))
            (local.set $wp (i32.add (local.get $wp) (local.get $row)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
          (v128.store (i32.add (local.get $yr) (local.get $c)) (local.get $acc))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (local.set $s (f32.load (i32.add (local.get $bias) (local.get $c))))
          (local.set $xp (i32.add (local.get $xr) (local.get $c)))
          (local.set $wp (i32.add (local.get $wr) (local.get $c)))
          (local.set $j (local.get $j0))
          (block $j_done (loop $j_loop
            (br_if $j_done (i32.ge_s (local.get $j) (local.get $j1)))
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $wp)) (f32.load (local.get $xp)))))
            (local.set $xp (i32.add (local.get $xp) (local.get $row)))
            (local.set $wp (i32.add (local.get $wp) (local.get $row)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
          (f32.store (i32.add (local.get $yr) (local.get $c)) (local.get $s))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $yr (i32.add (local.get $yr) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; Input gradient of `depthwise`: dx[b, t, c] = sum over taps j and outputs u with
  ;; stride*u + j - pad = t of dy[b, u, c] * w[j, c], gathered so that each dx row is written once.
  ;; dy [batch, tOut, ch], w [k, ch], dx [batch, time, ch].
  (func (export "depthwise_input_grad")
    (param $dy i32) (param $w i32) (param $dx i32)
    (param $batch i32) (param $time i32) (param $tOut i32) (param $ch i32) (param $k i32) (param $stride i32)
    (local $row i32) (local $vecBytes i32) (local $pad i32) (local $b i32) (local $t i32) (local $q i32)
    (local $lo i32) (local $hi i32) (local $n i32) (local $u0 i32) (local $dyr i32) (local $wr i32) (local $wStep i32)
    (local $xr i32) (local $c i32) (local $j i32) (local $dp i32) (local $wp i32) (local $acc v128) (local $s f32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $pad (i32.shr_s (i32.sub (local.get $k) (i32.const 1)) (i32.const 1)))
    (local.set $wStep (i32.mul (local.get $stride) (local.get $row)))
    (local.set $xr (local.get $dx))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $time)))
        ;; taps j = q - stride*u with 0 <= u < tOut, 0 <= j < k: from lo (rounded up to q's residue) to hi
        (local.set $q (i32.add (local.get $t) (local.get $pad)))
        (local.set $lo (i32.sub (local.get $q) (i32.mul (local.get $stride) (i32.sub (local.get $tOut) (i32.const 1)))))
        (if (i32.lt_s (local.get $lo) (i32.const 0)) (then (local.set $lo (i32.const 0))))
        (local.set $hi (local.get $q))
        (if (i32.ge_s (local.get $hi) (local.get $k)) (then (local.set $hi (i32.sub (local.get $k) (i32.const 1)))))
        (local.set $n (i32.const 0))
        (local.set $u0 (i32.const 0))
        (if (i32.ge_s (local.get $hi) (local.get $lo))
          (then
            (local.set $lo (i32.add (local.get $lo) (i32.rem_s (i32.sub (local.get $q) (local.get $lo)) (local.get $stride))))
            (if (i32.ge_s (local.get $hi) (local.get $lo))
              (then
                (local.set $n (i32.add (i32.div_s (i32.sub (local.get $hi) (local.get $lo)) (local.get $stride)) (i32.const 1)))
                (local.set $u0 (i32.div_s (i32.sub (local.get $q) (local.get $lo)) (local.get $stride)))))))
        ;; tap lo reads dy row u0; each next tap is stride rows of w further and one dy row back
        (local.set $dyr (i32.add (local.get $dy) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $tOut)) (local.get $u0)) (local.get $row))))
        (local.set $wr (i32.add (local.get $w) (i32.mul (local.get $lo) (local.get $row))))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (local.set $acc (v128.const f32x4 0 0 0 0))
          (local.set $dp (i32.add (local.get $dyr) (local.get $c)))
          (local.set $wp (i32.add (local.get $wr) (local.get $c)))
          (local.set $j (i32.const 0))
          (block $j_done (loop $j_loop
            (br_if $j_done (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $wp)) (v128.load (local.get $dp)))))
            (local.set $dp (i32.sub (local.get $dp) (local.get $row)))
            (local.set $wp (i32.add (local.get $wp) (local.get $wStep)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
          (v128.store (i32.add (local.get $xr) (local.get $c)) (local.get $acc))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (local.set $s (f32.const 0))
          (local.set $dp (i32.add (local.get $dyr) (local.get $c)))
          (local.set $wp (i32.add (local.get $wr) (local.get $c)))
          (local.set $j (i32.const 0))
          (block $j_done (loop $j_loop
            (br_if $j_done (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $wp)) (f32.load (local.get $dp)))))
            (local.set $dp (i32.sub (local.get $dp) (local.get $row)))
            (local.set $wp (i32.add (local.get $wp) (local.get $wStep)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
          (f32.store (i32.add (local.get $xr) (local.get $c)) (local.get $s))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $xr (i32.add (local.get $xr) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; Weight and bias gradients of `depthwise`: dw[j, c] = sum_{b,u} dy[b, u, c] * x[b, stride*u + j - pad, c],
  ;; dbias[c] = sum_{b,u} dy[b, u, c]. dy [batch, tOut, ch], x [batch, time, ch], dw [k, ch], dbias [ch];
  ;; scratch [k + 1, ch].
  (func (export "depthwise_filter_grad")
    (param $dy i32) (param $x i32) (param $dw i32) (param $dbias i32) (param $tmp i32)
    (param $batch i32) (param $time i32) (param $tOut i32) (param $ch i32) (param $k i32) (param $stride i32)
    (local $row i32) (local $pad i32) (local $b i32) (local $u i32) (local $base i32) (local $j i32) (local $j1 i32)
    (local $dyr i32) (local $rows i32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $pad (i32.shr_s (i32.sub (local.get $k) (i32.const 1)) (i32.const 1)))
    (memory.fill (local.get $dw) (i32.const 0) (i32.mul (local.get $k) (local.get $row)))
    (memory.fill (local.get $dbias) (i32.const 0) (local.get $row))
    (memory.fill (local.get $tmp) (i32.const 0) (i32.mul (i32.add (local.get $k) (i32.const 1)) (local.get $row)))
    (local.set $dyr (local.get $dy))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $u (i32.const 0))
      (block $u_done (loop $u_loop
        (br_if $u_done (i32.ge_s (local.get $u) (local.get $tOut)))
        (call $add_to (i32.add (local.get $tmp) (i32.mul (local.get $k) (local.get $row))) (local.get $dyr) (local.get $ch))
        ;; taps from j up to j1 (exclusive) read rows base + j inside [0, time)
        (local.set $base (i32.sub (i32.mul (local.get $stride) (local.get $u)) (local.get $pad)))
        (local.set $j (select (i32.sub (i32.const 0) (local.get $base)) (i32.const 0) (i32.lt_s (local.get $base) (i32.const 0))))
        (local.set $j1 (i32.sub (local.get $time) (local.get $base)))
        (if (i32.gt_s (local.get $j1) (local.get $k)) (then (local.set $j1 (local.get $k))))
        (block $j_done (loop $j_loop
          (br_if $j_done (i32.ge_s (local.get $j) (local.get $j1)))
          (call $add_product (i32.add (local.get $tmp) (i32.mul (local.get $j) (local.get $row))) (local.get $dyr)
            (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $time)) (i32.add (local.get $base) (local.get $j))) (local.get $row)))
            (local.get $ch))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $j_loop)))
        (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
        (if (i32.eq (local.get $rows) (i32.const 64))
          (then
            (call $flush (local.get $dw) (local.get $tmp) (i32.mul (local.get $k) (local.get $ch)))
            (call $flush (local.get $dbias) (i32.add (local.get $tmp) (i32.mul (local.get $k) (local.get $row))) (local.get $ch))
            (local.set $rows (i32.const 0))))
        (local.set $dyr (i32.add (local.get $dyr) (local.get $row)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $u_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop)))
    (call $add_to (local.get $dw) (local.get $tmp) (i32.mul (local.get $k) (local.get $ch)))
    (call $add_to (local.get $dbias) (i32.add (local.get $tmp) (i32.mul (local.get $k) (local.get $row))) (local.get $ch)))

  ;; Global layer norm (GroupNorm(1, ch)) forward: per example b, mean and rstd = 1/sqrt(var + eps)
  ;; over (time, ch) into stats[b] = (mean, rstd), then y = (x - mean) * rstd * gamma[c] + beta[c].
  ;; x, y [batch, time, ch], gamma, beta [ch], stats [batch, 2].
  (func (export "gln_forward")
    (param $x i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $stats i32)
    (param $batch i32) (param $time i32) (param $ch i32) (param $eps f32)
    (local $row i32) (local $vecBytes i32) (local $n i32) (local $b i32) (local $t i32) (local $c i32)
    (local $xr i32) (local $yr i32) (local $mean f32) (local $rstd f32) (local $mv v128) (local $rv v128)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $n (i32.mul (local.get $time) (local.get $ch)))
    (local.set $xr (local.get $x))
    (local.set $yr (local.get $y))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $mean (f32.demote_f64 (f64.div (call $sum (local.get $xr) (local.get $n) (i32.const 0) (f32.const 0)) (f64.convert_i32_s (local.get $n)))))
      (local.set $rstd (f32.demote_f64 (f64.div (f64.const 1)
        (f64.sqrt (f64.add
          (f64.div (call $sum (local.get $xr) (local.get $n) (i32.const 1) (local.get $mean)) (f64.convert_i32_s (local.get $n)))
          (f64.promote_f32 (local.get $eps)))))))
      (f32.store (i32.add (local.get $stats) (i32.shl (local.get $b) (i32.const 3))) (local.get $mean))
      (f32.store offset=4 (i32.add (local.get $stats) (i32.shl (local.get $b) (i32.const 3))) (local.get $rstd))
      (local.set $mv (f32x4.splat (local.get $mean)))
      (local.set $rv (f32x4.splat (local.get $rstd)))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $time)))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (v128.store (i32.add (local.get $yr) (local.get $c))
            (f32x4.add
              (f32x4.mul
                (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $xr) (local.get $c))) (local.get $mv)) (local.get $rv))
                (v128.load (i32.add (local.get $gamma) (local.get $c))))
              (v128.load (i32.add (local.get $beta) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (f32.store (i32.add (local.get $yr) (local.get $c))
            (f32.add
              (f32.mul
                (f32.mul (f32.sub (f32.load (i32.add (local.get $xr) (local.get $c))) (local.get $mean)) (local.get $rstd))
                (f32.load (i32.add (local.get $gamma) (local.get $c))))
              (f32.load (i32.add (local.get $beta) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $xr (i32.add (local.get $xr) (local.get $row)))
        (local.set $yr (i32.add (local.get $yr) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; Global layer norm backward from the saved stats. With xhat = (x - mean) * rstd, per example:
  ;; m1 = mean(dy * gamma), m2 = mean(dy * gamma * xhat), dx = rstd * (gamma * dy - m1 - xhat * m2);
  ;; over the batch: dgamma[c] = sum dy * xhat, dbeta[c] = sum dy. dy, x, dx [batch, time, ch],
  ;; gamma, dgamma, dbeta [ch], stats [batch, 2]; scratch [2, ch].
  (func (export "gln_backward")
    (param $dy i32) (param $x i32) (param $gamma i32) (param $stats i32) (param $dx i32) (param $dgamma i32) (param $dbeta i32) (param $tmp i32)
    (param $batch i32) (param $time i32) (param $ch i32)
    (local $row i32) (local $vecBytes i32) (local $b i32) (local $t i32) (local $c i32) (local $tmpG i32)
    (local $xb i32) (local $dyb i32) (local $xr i32) (local $dr i32) (local $mean f32) (local $rstd f32)
    (local $mv v128) (local $rv v128) (local $g v128) (local $xh v128) (local $m1v v128) (local $m2v v128)
    (local $gs f32) (local $xs f32) (local $m1 f64) (local $m2 f64) (local $c1 v128) (local $c2 v128) (local $c1s f32) (local $c2s f32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $tmpG (i32.add (local.get $tmp) (local.get $row)))
    (memory.fill (local.get $dgamma) (i32.const 0) (local.get $row))
    (memory.fill (local.get $dbeta) (i32.const 0) (local.get $row))
    (memory.fill (local.get $tmp) (i32.const 0) (i32.shl (local.get $row) (i32.const 1)))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $xb (i32.add (local.get $x) (i32.mul (i32.mul (local.get $b) (local.get $time)) (local.get $row))))
      (local.set $dyb (i32.add (local.get $dy) (i32.mul (i32.mul (local.get $b) (local.get $time)) (local.get $row))))
      (local.set $mean (f32.load (i32.add (local.get $stats) (i32.shl (local.get $b) (i32.const 3)))))
      (local.set $rstd (f32.load offset=4 (i32.add (local.get $stats) (i32.shl (local.get $b) (i32.const 3)))))
      (local.set $mv (f32x4.splat (local.get $mean)))
      (local.set $rv (f32x4.splat (local.get $rstd)))
      (local.set $m1 (f64.const 0))
      (local.set $m2 (f64.const 0))
      ;; pass 1: per-channel sums of dy and dy * xhat, row by row into the scratch, which goes into
      ;; dbeta, dgamma, m1 and m2 every 64 rows
      (local.set $xr (local.get $xb))
      (local.set $dr (local.get $dyb))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $time)))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (local.set $g (v128.load (i32.add (local.get $dr) (local.get $c))))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $xr) (local.get $c))) (local.get $mv)) (local.get $rv)))
          (v128.store (i32.add (local.get $tmp) (local.get $c)) (f32x4.add (v128.load (i32.add (local.get $tmp) (local.get $c))) (local.get $g)))
          (v128.store (i32.add (local.get $tmpG) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $tmpG) (local.get $c))) (f32x4.mul (local.get $g) (local.get $xh))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (local.set $gs (f32.load (i32.add (local.get $dr) (local.get $c))))
          (local.set $xs (f32.mul (f32.sub (f32.load (i32.add (local.get $xr) (local.get $c))) (local.get $mean)) (local.get $rstd)))
          (f32.store (i32.add (local.get $tmp) (local.get $c)) (f32.add (f32.load (i32.add (local.get $tmp) (local.get $c))) (local.get $gs)))
          (f32.store (i32.add (local.get $tmpG) (local.get $c))
            (f32.add (f32.load (i32.add (local.get $tmpG) (local.get $c))) (f32.mul (local.get $gs) (local.get $xs))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $xr (i32.add (local.get $xr) (local.get $row)))
        (local.set $dr (i32.add (local.get $dr) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (if (i32.or (i32.eqz (i32.and (local.get $t) (i32.const 63))) (i32.eq (local.get $t) (local.get $time)))
          (then
            (local.set $m1v (v128.const f32x4 0 0 0 0))
            (local.set $m2v (v128.const f32x4 0 0 0 0))
            (local.set $c (i32.const 0))
            (block $v_done (loop $v_loop
              (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
              (local.set $g (v128.load (i32.add (local.get $gamma) (local.get $c))))
              (local.set $m1v (f32x4.add (local.get $m1v) (f32x4.mul (v128.load (i32.add (local.get $tmp) (local.get $c))) (local.get $g))))
              (local.set $m2v (f32x4.add (local.get $m2v) (f32x4.mul (v128.load (i32.add (local.get $tmpG) (local.get $c))) (local.get $g))))
              (local.set $c (i32.add (local.get $c) (i32.const 16)))
              (br $v_loop)))
            (local.set $m1 (f64.add (local.get $m1) (call $hsum (local.get $m1v))))
            (local.set $m2 (f64.add (local.get $m2) (call $hsum (local.get $m2v))))
            (block $s_done (loop $s_loop
              (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
              (local.set $gs (f32.load (i32.add (local.get $gamma) (local.get $c))))
              (local.set $m1 (f64.add (local.get $m1) (f64.promote_f32 (f32.mul (f32.load (i32.add (local.get $tmp) (local.get $c))) (local.get $gs)))))
              (local.set $m2 (f64.add (local.get $m2) (f64.promote_f32 (f32.mul (f32.load (i32.add (local.get $tmpG) (local.get $c))) (local.get $gs)))))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br $s_loop)))
            (call $flush (local.get $dbeta) (local.get $tmp) (local.get $ch))
            (call $flush (local.get $dgamma) (local.get $tmpG) (local.get $ch))))
        (br $t_loop)))
      ;; pass 2: dx = dy * (gamma * rstd) - xhat * (rstd * m2) - rstd * m1
      (local.set $c1s (f32.demote_f64 (f64.div (f64.mul (f64.promote_f32 (local.get $rstd)) (local.get $m2)) (f64.convert_i32_s (i32.mul (local.get $time) (local.get $ch))))))
      (local.set $c2s (f32.demote_f64 (f64.div (f64.mul (f64.promote_f32 (local.get $rstd)) (local.get $m1)) (f64.convert_i32_s (i32.mul (local.get $time) (local.get $ch))))))
      (local.set $c1 (f32x4.splat (local.get $c1s)))
      (local.set $c2 (f32x4.splat (local.get $c2s)))
      (local.set $xr (local.get $xb))
      (local.set $dr (local.get $dyb))
      (local.set $dyb (i32.add (local.get $dx) (i32.sub (local.get $xb) (local.get $x))))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $time)))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $xr) (local.get $c))) (local.get $mv)) (local.get $rv)))
          (v128.store (i32.add (local.get $dyb) (local.get $c))
            (f32x4.sub
              (f32x4.sub
                (f32x4.mul (v128.load (i32.add (local.get $dr) (local.get $c))) (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $c))) (local.get $rv)))
                (f32x4.mul (local.get $xh) (local.get $c1)))
              (local.get $c2)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (local.set $xs (f32.mul (f32.sub (f32.load (i32.add (local.get $xr) (local.get $c))) (local.get $mean)) (local.get $rstd)))
          (f32.store (i32.add (local.get $dyb) (local.get $c))
            (f32.sub
              (f32.sub
                (f32.mul (f32.load (i32.add (local.get $dr) (local.get $c))) (f32.mul (f32.load (i32.add (local.get $gamma) (local.get $c))) (local.get $rstd)))
                (f32.mul (local.get $xs) (local.get $c1s)))
              (local.get $c2s)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $xr (i32.add (local.get $xr) (local.get $row)))
        (local.set $dr (i32.add (local.get $dr) (local.get $row)))
        (local.set $dyb (i32.add (local.get $dyb) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; PReLU backward: dx = x > 0 ? dy : dy * alpha[c]; dalpha[c] = sum over rows of (x > 0 ? 0 : dy * x).
  ;; dy, x, dx [rows, ch], alpha, dalpha [ch]; scratch [ch].
  (func (export "prelu_backward")
    (param $dy i32) (param $x i32) (param $alpha i32) (param $dx i32) (param $dalpha i32) (param $tmp i32) (param $rows i32) (param $ch i32)
    (local $row i32) (local $vecBytes i32) (local $r i32) (local $c i32) (local $off i32)
    (local $g v128) (local $v v128) (local $pos v128) (local $gs f32) (local $vs f32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (memory.fill (local.get $dalpha) (i32.const 0) (local.get $row))
    (memory.fill (local.get $tmp) (i32.const 0) (local.get $row))
    (block $r_done (loop $r_loop
      (br_if $r_done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $c (i32.const 0))
      (block $v_done (loop $v_loop
        (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
        (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $off) (local.get $c)))))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.add (local.get $off) (local.get $c)))))
        (local.set $pos (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)))
        (v128.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $c)))
          (v128.bitselect (local.get $g) (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $alpha) (local.get $c)))) (local.get $pos)))
        (v128.store (i32.add (local.get $tmp) (local.get $c))
          (f32x4.add (v128.load (i32.add (local.get $tmp) (local.get $c))) (v128.andnot (f32x4.mul (local.get $g) (local.get $v)) (local.get $pos))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $v_loop)))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
        (local.set $gs (f32.load (i32.add (local.get $dy) (i32.add (local.get $off) (local.get $c)))))
        (local.set $vs (f32.load (i32.add (local.get $x) (i32.add (local.get $off) (local.get $c)))))
        (if (f32.gt (local.get $vs) (f32.const 0))
          (then (f32.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $c))) (local.get $gs)))
          (else
            (f32.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $c))) (f32.mul (local.get $gs) (f32.load (i32.add (local.get $alpha) (local.get $c)))))
            (f32.store (i32.add (local.get $tmp) (local.get $c)) (f32.add (f32.load (i32.add (local.get $tmp) (local.get $c))) (f32.mul (local.get $gs) (local.get $vs))))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $s_loop)))
      (local.set $off (i32.add (local.get $off) (local.get $row)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (if (i32.eqz (i32.and (local.get $r) (i32.const 63))) (then (call $flush (local.get $dalpha) (local.get $tmp) (local.get $ch))))
      (br $r_loop)))
    (call $add_to (local.get $dalpha) (local.get $tmp) (local.get $ch)))

  ;; out[b, t, c] = fine[b, t, c] + coarse[b, t >> 1, c]. fine, out [batch, time, ch], coarse [batch, tc, ch].
  (func (export "add_upsampled")
    (param $fine i32) (param $coarse i32) (param $out i32) (param $batch i32) (param $time i32) (param $tc i32) (param $ch i32)
    (local $row i32) (local $vecBytes i32) (local $b i32) (local $t i32) (local $c i32) (local $fr i32) (local $cr i32) (local $or i32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $fr (local.get $fine))
    (local.set $or (local.get $out))
    (block $b_done (loop $b_loop
      (br_if $b_done (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $t (i32.const 0))
      (block $t_done (loop $t_loop
        (br_if $t_done (i32.ge_s (local.get $t) (local.get $time)))
        (local.set $cr (i32.add (local.get $coarse)
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $tc)) (i32.shr_s (local.get $t) (i32.const 1))) (local.get $row))))
        (local.set $c (i32.const 0))
        (block $v_done (loop $v_loop
          (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
          (v128.store (i32.add (local.get $or) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $fr) (local.get $c))) (v128.load (i32.add (local.get $cr) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $v_loop)))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
          (f32.store (i32.add (local.get $or) (local.get $c))
            (f32.add (f32.load (i32.add (local.get $fr) (local.get $c))) (f32.load (i32.add (local.get $cr) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $s_loop)))
        (local.set $fr (i32.add (local.get $fr) (local.get $row)))
        (local.set $or (i32.add (local.get $or) (local.get $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $t_loop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $b_loop))))

  ;; out[r, c] = dy[2r, c] + dy[2r + 1, c]. dy [2 * pairs, ch], out [pairs, ch].
  (func (export "pair_sum")
    (param $dy i32) (param $out i32) (param $pairs i32) (param $ch i32)
    (local $row i32) (local $vecBytes i32) (local $r i32) (local $c i32) (local $ir i32) (local $or i32)
    (local.set $row (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $row) (i32.const -16)))
    (local.set $ir (local.get $dy))
    (local.set $or (local.get $out))
    (block $r_done (loop $r_loop
      (br_if $r_done (i32.ge_s (local.get $r) (local.get $pairs)))
      (local.set $c (i32.const 0))
      (block $v_done (loop $v_loop
        (br_if $v_done (i32.ge_s (local.get $c) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $or) (local.get $c))
          (f32x4.add (v128.load (i32.add (local.get $ir) (local.get $c))) (v128.load (i32.add (i32.add (local.get $ir) (local.get $row)) (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $v_loop)))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $c) (local.get $row)))
        (f32.store (i32.add (local.get $or) (local.get $c))
          (f32.add (f32.load (i32.add (local.get $ir) (local.get $c))) (f32.load (i32.add (i32.add (local.get $ir) (local.get $row)) (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $s_loop)))
      (local.set $ir (i32.add (local.get $ir) (i32.shl (local.get $row) (i32.const 1))))
      (local.set $or (i32.add (local.get $or) (local.get $row)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $r_loop))))

  ;; out[c] = sum over rows of x[r, c]. x [rows, ch], out [ch]; scratch [ch].
  (func (export "column_sum")
    (param $x i32) (param $out i32) (param $tmp i32) (param $rows i32) (param $ch i32)
    (local $r i32) (local $p i32)
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $ch) (i32.const 2)))
    (memory.fill (local.get $tmp) (i32.const 0) (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $p (local.get $x))
    (block $r_done (loop $r_loop
      (br_if $r_done (i32.ge_s (local.get $r) (local.get $rows)))
      (call $add_to (local.get $tmp) (local.get $p) (local.get $ch))
      (local.set $p (i32.add (local.get $p) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (if (i32.eqz (i32.and (local.get $r) (i32.const 63))) (then (call $flush (local.get $out) (local.get $tmp) (local.get $ch))))
      (br $r_loop)))
    (call $add_to (local.get $out) (local.get $tmp) (local.get $ch)))

  ;; Band matrix of the mask conv: m[i, o * nSrc + s] = w[s, i - o + h] for 0 <= i - o + h < kernel,
  ;; else 0, with h = (kernel - 1) / 2. w [nSrc, kernel], m [nBasis, nBasis * nSrc].
  (func (export "band_matrix")
    (param $w i32) (param $m i32) (param $nSrc i32) (param $kernel i32) (param $nBasis i32)
    (local $h i32) (local $i i32) (local $o i32) (local $s i32) (local $tap i32) (local $p i32)
    (local.set $h (i32.shr_s (i32.sub (local.get $kernel) (i32.const 1)) (i32.const 1)))
    (local.set $p (local.get $m))
    (block $i_done (loop $i_loop
      (br_if $i_done (i32.ge_s (local.get $i) (local.get $nBasis)))
      (local.set $o (i32.const 0))
      (block $o_done (loop $o_loop
        (br_if $o_done (i32.ge_s (local.get $o) (local.get $nBasis)))
        (local.set $tap (i32.add (i32.sub (local.get $i) (local.get $o)) (local.get $h)))
        (local.set $s (i32.const 0))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $s) (local.get $nSrc)))
          (f32.store (local.get $p)
            (if (result f32) (i32.and (i32.ge_s (local.get $tap) (i32.const 0)) (i32.lt_s (local.get $tap) (local.get $kernel)))
              (then (f32.load (i32.add (local.get $w) (i32.shl (i32.add (i32.mul (local.get $s) (local.get $kernel)) (local.get $tap)) (i32.const 2)))))
              (else (f32.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $s_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $i_loop))))

  ;; Its gradient: dw[s, tap] = sum over the band's diagonal of dm. dm [nBasis, nBasis * nSrc], dw [nSrc, kernel].
  (func (export "band_matrix_grad")
    (param $dm i32) (param $dw i32) (param $nSrc i32) (param $kernel i32) (param $nBasis i32)
    (local $h i32) (local $i i32) (local $o i32) (local $oEnd i32) (local $s i32) (local $tap i32) (local $p i32) (local $q i32)
    (local.set $h (i32.shr_s (i32.sub (local.get $kernel) (i32.const 1)) (i32.const 1)))
    (memory.fill (local.get $dw) (i32.const 0) (i32.shl (i32.mul (local.get $nSrc) (local.get $kernel)) (i32.const 2)))
    (block $i_done (loop $i_loop
      (br_if $i_done (i32.ge_s (local.get $i) (local.get $nBasis)))
      ;; columns o with 0 <= i - o + h < kernel
      (local.set $o (i32.add (i32.sub (local.get $i) (local.get $kernel)) (i32.add (local.get $h) (i32.const 1))))
      (if (i32.lt_s (local.get $o) (i32.const 0)) (then (local.set $o (i32.const 0))))
      (local.set $oEnd (i32.add (i32.add (local.get $i) (local.get $h)) (i32.const 1)))
      (if (i32.gt_s (local.get $oEnd) (local.get $nBasis)) (then (local.set $oEnd (local.get $nBasis))))
      (block $o_done (loop $o_loop
        (br_if $o_done (i32.ge_s (local.get $o) (local.get $oEnd)))
        (local.set $tap (i32.add (i32.sub (local.get $i) (local.get $o)) (local.get $h)))
        (local.set $p (i32.add (local.get $dm)
          (i32.shl (i32.mul (i32.add (i32.mul (local.get $i) (local.get $nBasis)) (local.get $o)) (local.get $nSrc)) (i32.const 2))))
        (local.set $s (i32.const 0))
        (block $s_done (loop $s_loop
          (br_if $s_done (i32.ge_s (local.get $s) (local.get $nSrc)))
          (local.set $q (i32.add (local.get $dw) (i32.shl (i32.add (i32.mul (local.get $s) (local.get $kernel)) (local.get $tap)) (i32.const 2))))
          (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $s_loop)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $o_loop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $i_loop))))

  ;; Masks applied to the encoding: per unit u (an element of enc), m[u, s] = softmax over s of
  ;; logits[u, s] + bias[s] (sigmoid for one source), out[u, s] = m[u, s] * enc[u].
  ;; logits, out, masks [units, k], bias [k], enc [units]. One and two sources run four units at a
  ;; time (two: m0 = sigmoid(l0 - l1), one exp); other counts and leftover units go one by one.
  (func (export "masked_softmax")
    (param $logits i32) (param $bias i32) (param $enc i32) (param $out i32) (param $masks i32) (param $units i32) (param $k i32)
    (local $u i32) (local $nv i32) (local $p i32) (local $s i32) (local $b0 v128) (local $b1 v128) (local $a v128) (local $l0 v128)
    (local $l1 v128) (local $m0 v128) (local $m1 v128) (local $e v128) (local $max f32) (local $sum f32) (local $v f32) (local $x f32)
    (local.set $nv (i32.and (local.get $units) (i32.const -4)))
    (if (i32.eq (local.get $k) (i32.const 1))
      (then
        (local.set $b0 (v128.load32_splat (local.get $bias)))
        (block $done (loop $loop
          (br_if $done (i32.ge_s (local.get $u) (local.get $nv)))
          (local.set $p (i32.shl (local.get $u) (i32.const 2)))
          (local.set $m0 (f32x4.div (v128.const f32x4 1 1 1 1)
            (f32x4.add (v128.const f32x4 1 1 1 1)
              (call $exp4 (f32x4.neg (f32x4.add (v128.load (i32.add (local.get $logits) (local.get $p))) (local.get $b0)))))))
          (v128.store (i32.add (local.get $masks) (local.get $p)) (local.get $m0))
          (v128.store (i32.add (local.get $out) (local.get $p)) (f32x4.mul (local.get $m0) (v128.load (i32.add (local.get $enc) (local.get $p)))))
          (local.set $u (i32.add (local.get $u) (i32.const 4)))
          (br $loop)))))
    (if (i32.eq (local.get $k) (i32.const 2))
      (then
        (local.set $b0 (v128.load32_splat (local.get $bias)))
        (local.set $b1 (v128.load32_splat offset=4 (local.get $bias)))
        (block $done (loop $loop
          (br_if $done (i32.ge_s (local.get $u) (local.get $nv)))
          (local.set $p (i32.shl (local.get $u) (i32.const 3)))
          (local.set $a (v128.load (i32.add (local.get $logits) (local.get $p))))
          (local.set $e (v128.load offset=16 (i32.add (local.get $logits) (local.get $p))))
          (local.set $l0 (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $e)) (local.get $b0)))
          (local.set $l1 (f32x4.add (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $e)) (local.get $b1)))
          (local.set $m0 (f32x4.div (v128.const f32x4 1 1 1 1)
            (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (f32x4.sub (local.get $l1) (local.get $l0))))))
          (local.set $m1 (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $m0)))
          (v128.store (i32.add (local.get $masks) (local.get $p)) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1)))
          (v128.store offset=16 (i32.add (local.get $masks) (local.get $p)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
          (local.set $e (v128.load (i32.add (local.get $enc) (i32.shl (local.get $u) (i32.const 2)))))
          (local.set $m0 (f32x4.mul (local.get $m0) (local.get $e)))
          (local.set $m1 (f32x4.mul (local.get $m1) (local.get $e)))
          (v128.store (i32.add (local.get $out) (local.get $p)) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1)))
          (v128.store offset=16 (i32.add (local.get $out) (local.get $p)) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
          (local.set $u (i32.add (local.get $u) (i32.const 4)))
          (br $loop)))))
    (block $done (loop $loop
      (br_if $done (i32.ge_s (local.get $u) (local.get $units)))
      (local.set $p (i32.shl (i32.mul (local.get $u) (local.get $k)) (i32.const 2)))
      (local.set $x (f32.load (i32.add (local.get $enc) (i32.shl (local.get $u) (i32.const 2)))))
      (if (i32.eq (local.get $k) (i32.const 1))
        (then
          (local.set $v (f32.div (f32.const 1) (f32.add (f32.const 1)
            (call $exp (f32.neg (f32.add (f32.load (i32.add (local.get $logits) (local.get $p))) (f32.load (local.get $bias))))))))
          (f32.store (i32.add (local.get $masks) (local.get $p)) (local.get $v))
          (f32.store (i32.add (local.get $out) (local.get $p)) (f32.mul (local.get $v) (local.get $x))))
        (else
          (local.set $max (f32.const -inf))
          (local.set $s (i32.const 0))
          (block $s_done (loop $s_loop
            (br_if $s_done (i32.ge_s (local.get $s) (local.get $k)))
            (local.set $max (f32.max (local.get $max)
              (f32.add (f32.load (i32.add (i32.add (local.get $logits) (local.get $p)) (i32.shl (local.get $s) (i32.const 2))))
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $s) (i32.const 2)))))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $s_loop)))
          (local.set $sum (f32.const 0))
          (local.set $s (i32.const 0))
          (block $s_done (loop $s_loop
            (br_if $s_done (i32.ge_s (local.get $s) (local.get $k)))
            (local.set $v (call $exp (f32.sub
              (f32.add (f32.load (i32.add (i32.add (local.get $logits) (local.get $p)) (i32.shl (local.get $s) (i32.const 2))))
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $s) (i32.const 2)))))
              (local.get $max))))
            (f32.store (i32.add (i32.add (local.get $masks) (local.get $p)) (i32.shl (local.get $s) (i32.const 2))) (local.get $v))
            (local.set $sum (f32.add (local.get $sum) (local.get $v)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $s_loop)))
          (local.set $s (i32.const 0))
          (block $s_done (loop $s_loop
            (br_if $s_done (i32.ge_s (local.get $s) (local.get $k)))
            (local.set $v (f32.div (f32.load (i32.add (i32.add (local.get $masks) (local.get $p)) (i32.shl (local.get $s) (i32.const 2)))) (local.get $sum)))
            (f32.store (i32.add (i32.add (local.get $masks) (local.get $p)) (i32.shl (local.get $s) (i32.const 2))) (local.get $v))
            (f32.store (i32.add (i32.add (local.get $out) (local.get $p)) (i32.shl (local.get $s) (i32.const 2))) (f32.mul (local.get $v) (local.get $x)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $s_loop)))))
      (local.set $u (i32.add (local.get $u) (i32.const 1)))
      (br $loop))))

  ;; Gradients of `masked_softmax` from dy [units, k] and its masks: denc[u] = sum_s m * dy,
  ;; dlogits[u, s] = m * (dy * enc - sum_s' m * dy * enc) (dy * enc * m * (1 - m) for one source),
  ;; dbias[s] = sum_u dlogits[u, s]. dlogits [units, k], dbias [k], denc [units]; scratch [k].
  (func (export "masked_softmax_grad")
    (param $dy i32) (param $masks i32) (param $enc i32) (param $dl i32) (param $dbias i32) (param $denc i32) (param $tmp i32) (param $units i32) (param $k i32)
    (local $u i32) (local $nv i32) (local $p i32) (local $q i32) (local $s i32) (local $a v128) (local $c v128) (local $m0 v128) (local $m1 v128)
    (local $g0 v128) (local $g1 v128) (local $x v128) (local $de v128) (local $dot v128) (local $acc v128) (local $d0 f64) (local $d1 f64)
    (local $xs f32) (local $des f32) (local $ms f32) (local $gs f32)
    (memory.fill (local.get $dbias) (i32.const 0) (i32.shl (local.get $k) (i32.const 2)))
    (memory.fill (local.get $tmp) (i32.const 0) (i32.shl (local.get $k) (i32.const 2)))
    (local.set $nv (i32.and (local.get $units) (i32.const -4)))
    ;; one and two sources: dbias in lanes (s0 s0 s0 s0 or s0 s1 s0 s1), into doubles every 64 units
    (if (i32.eq (local.get $k) (i32.const 1))
      (then
        (block $done (loop $loop
          (br_if $done (i32.ge_s (local.get $u) (local.get $nv)))
          (local.set $p (i32.shl (local.get $u) (i32.const 2)))
          (local.set $m0 (v128.load (i32.add (local.get $masks) (local.get $p))))
          (local.set $g0 (v128.load (i32.add (local.get $dy) (local.get $p))))
          (local.set $x (v128.load (i32.add (local.get $enc) (local.get $p))))
          (v128.store (i32.add (local.get $denc) (local.get $p)) (f32x4.mul (local.get $m0) (local.get $g0)))
          (local.set $m0 (f32x4.mul (f32x4.mul (f32x4.mul (local.get $g0) (local.get $x)) (local.get $m0)) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $m0))))
          (v128.store (i32.add (local.get $dl) (local.get $p)) (local.get $m0))
          (local.set $acc (f32x4.add (local.get $acc) (local.get $m0)))
          (local.set $u (i32.add (local.get $u) (i32.const 4)))
          (if (i32.eqz (i32.and (local.get $u) (i32.const 63)))
            (then
              (local.set $d0 (f64.add (local.get $d0) (call $hsum (local.get $acc))))
              (local.set $acc (v128.const f32x4 0 0 0 0))))
          (br $loop)))
        (f32.store (local.get $dbias) (f32.demote_f64 (f64.add (local.get $d0) (call $hsum (local.get $acc)))))))
    (if (i32.eq (local.get $k) (i32.const 2))
      (then
        (block $done (loop $loop
          (br_if $done (i32.ge_s (local.get $u) (local.get $nv)))
          (local.set $p (i32.shl (local.get $u) (i32.const 3)))
          (local.set $a (v128.load (i32.add (local.get $masks) (local.get $p))))
          (local.set $c (v128.load offset=16 (i32.add (local.get $masks) (local.get $p))))
          (local.set $m0 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $c)))
          (local.set $m1 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $c)))
          (local.set $a (v128.load (i32.add (local.get $dy) (local.get $p))))
          (local.set $c (v128.load offset=16 (i32.add (local.get $dy) (local.get $p))))
          (local.set $g0 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $c)))
          (local.set $g1 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $c)))
          (local.set $q (i32.shl (local.get $u) (i32.const 2)))
          (local.set $x (v128.load (i32.add (local.get $enc) (local.get $q))))
          (local.set $de (f32x4.add (f32x4.mul (local.get $m0) (local.get $g0)) (f32x4.mul (local.get $m1) (local.get $g1))))
          (v128.store (i32.add (local.get $denc) (local.get $q)) (local.get $de))
          (local.set $dot (f32x4.mul (local.get $de) (local.get $x)))
          (local.set $m0 (f32x4.mul (local.get $m0) (f32x4.sub (f32x4.mul (local.get $g0) (local.get $x)) (local.get $dot))))
          (local.set $m1 (f32x4.mul (local.get $m1) (f32x4.sub (f32x4.mul (local.get $g1) (local.get $x)) (local.get $dot))))
          (local.set $a (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1)))
          (local.set $c (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
          (v128.store (i32.add (local.get $dl) (local.get $p)) (local.get $a))
          (v128.store offset=16 (i32.add (local.get $dl) (local.get $p)) (local.get $c))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.add (local.get $a) (local.get $c))))
          (local.set $u (i32.add (local.get $u) (i32.const 4)))
          (if (i32.eqz (i32.and (local.get $u) (i32.const 63)))
            (then
              (local.set $d0 (f64.add (local.get $d0) (f64.promote_f32 (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 2 (local.get $acc))))))
              (local.set $d1 (f64.add (local.get $d1) (f64.promote_f32 (f32.add (f32x4.extract_lane 1 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
              (local.set $acc (v128.const f32x4 0 0 0 0))))
          (br $loop)))
        (f32.store (local.get $dbias) (f32.demote_f64 (f64.add (local.get $d0)
          (f64.promote_f32 (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 2 (local.get $acc)))))))
        (f32.store offset=4 (local.get $dbias) (f32.demote_f64 (f64.add (local.get $d1)
          (f64.promote_f32 (f32.add (f32x4.extract_lane 1 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))))))
    ;; the rest one unit at a time, dbias through the scratch row
    (block $done (loop $loop
      (br_if $done (i32.ge_s (local.get $u) (local.get $units)))
      (local.set $p (i32.shl (i32.mul (local.get $u) (local.get $k)) (i32.const 2)))
      (local.set $xs (f32.load (i32.add (local.get $enc) (i32.shl (local.get $u) (i32.const 2)))))
      (local.set $des (f32.const 0))
      (local.set $s (i32.const 0))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $s) (local.get $k)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 2))))
        (local.set $des (f32.add (local.get $des) (f32.mul (f32.load (i32.add (local.get $masks) (local.get $q))) (f32.load (i32.add (local.get $dy) (local.get $q))))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $s_loop)))
      (f32.store (i32.add (local.get $denc) (i32.shl (local.get $u) (i32.const 2))) (local.get $des))
      (local.set $s (i32.const 0))
      (block $s_done (loop $s_loop
        (br_if $s_done (i32.ge_s (local.get $s) (local.get $k)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $s) (i32.const 2))))
        (local.set $ms (f32.load (i32.add (local.get $masks) (local.get $q))))
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $dy) (local.get $q))) (local.get $xs)))
        (local.set $gs
          (if (result f32) (i32.eq (local.get $k) (i32.const 1))
            (then (f32.mul (f32.mul (local.get $gs) (local.get $ms)) (f32.sub (f32.const 1) (local.get $ms))))
            (else (f32.mul (local.get $ms) (f32.sub (local.get $gs) (f32.mul (local.get $des) (local.get $xs)))))))
        (f32.store (i32.add (local.get $dl) (local.get $q)) (local.get $gs))
        (local.set $q (i32.add (local.get $tmp) (i32.shl (local.get $s) (i32.const 2))))
        (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (local.get $gs)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $s_loop)))
      (local.set $u (i32.add (local.get $u) (i32.const 1)))
      (if (i32.eqz (i32.and (local.get $u) (i32.const 63))) (then (call $flush (local.get $dbias) (local.get $tmp) (local.get $k))))
      (br $loop)))
    (call $add_to (local.get $dbias) (local.get $tmp) (local.get $k)))
)
