"""Publishing: tables as CSV / LaTeX / Markdown (``tables``) and the reproduction report
(``reproduction``)."""
