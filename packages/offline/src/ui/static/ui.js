// lockstep UI: sortable tables and run selection for comparison. Plain DOM, no dependencies, no build.
(() => {
  const compareKey = (a, b) => {
    if (a === '' && b === '') return 0;
    if (a === '') return 1; // missing values last, whatever the direction
    if (b === '') return -1;
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    return a.localeCompare(b);
  };

  for (const table of document.querySelectorAll('table.sortable')) {
    const headers = table.querySelectorAll('thead tr:last-child th');
    headers.forEach((th, column) => {
      if (th.classList.contains('nosort')) return;
      th.addEventListener('click', () => {
        const descending = th.getAttribute('aria-sort') === 'ascending';
        headers.forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        const body = table.tBodies[0];
        const rows = [...body.rows];
        const key = (row) => {
          const cell = row.cells[column];
          return cell ? (cell.dataset.sort ?? cell.textContent.trim()) : '';
        };
        rows.sort((r1, r2) => {
          const a = key(r1);
          const b = key(r2);
          if (a === '' || b === '') return compareKey(a, b);
          return descending ? compareKey(b, a) : compareKey(a, b);
        });
        body.append(...rows);
      });
    });
  }

  const button = document.getElementById('compare');
  const boxes = () => [...document.querySelectorAll('input.select-run')];
  const update = () => {
    if (button) button.disabled = boxes().filter((b) => b.checked).length < 2;
  };
  document.addEventListener('change', (event) => {
    if (event.target.id === 'select-all') for (const b of boxes()) b.checked = event.target.checked;
    update();
  });
  button?.addEventListener('click', () => {
    const ids = boxes().filter((b) => b.checked).map((b) => b.value);
    if (ids.length >= 2) location.href = `/compare?runs=${ids.join(',')}`;
  });
  update();
})();
