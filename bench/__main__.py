"""`python -m bench` (make bench): every benchmark, each writing its section of bench/RESULTS.md."""

from bench import classify, dream, live, preview

classify.main([])
dream.main([])
preview.main([])
live.main([])
live.main(["--page"])
