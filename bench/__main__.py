"""`python -m bench` (make bench): every benchmark, each writing its section of bench/RESULTS.md."""

from bench import classify, dream, host, live, loop, preview, slow_watcher

classify.main([])
dream.main([])
host.main([])
preview.main([])
loop.main([])
live.main([])
live.main(["--page"])
slow_watcher.main([])
