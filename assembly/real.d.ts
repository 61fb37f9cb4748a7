declare type real = f32; // set by the build (asc --use real=f32 | real=f64); see real.ts
