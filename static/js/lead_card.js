// The lead card reloads after a move (status bar, fields, checklist and history all change).
document.body.addEventListener("lead-moved", () => window.location.reload());
