/* admit, the live door view (/admin/events/SLUG/live): refreshes the figures of each check-in
 * list every 5 seconds from live.json, and the arrivals chart when they change (or every 30
 * seconds), without reloading the page. Served as a static file under the admin pages'
 * Content-Security-Policy (script-src 'self'); without JavaScript the page shows the same
 * figures and a Refresh link. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-url");
  var chart = document.getElementById("arrivals-chart");
  var status = document.getElementById("live-status");
  var fields = ["registered", "checked_in", "inside"];
  var rounds = 0;
  var timer = null;

  function show(data) {
    var changed = false;
    data.lists.forEach(function (list) {
      fields.forEach(function (field) {
        var cell = root.querySelector('[data-list="' + list.id + '"][data-field="' + field + '"]');
        var text = String(list[field]);
        if (cell && cell.textContent !== text) {
          cell.textContent = text;
          changed = true;
        }
      });
    });
    status.textContent = "Figures as of " + data.updated + ", updated every 5 seconds.";
    rounds += 1;
    /* The chart follows new arrivals at once, and the clock every 30 seconds. */
    if (chart && (changed || rounds % 6 === 0)) {
      chart.src = chart.getAttribute("data-src") + "?t=" + Date.now();
    }
  }

  function update() {
    fetch(url, { credentials: "same-origin", cache: "no-store",
                 headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          window.clearInterval(timer);
          throw new Error("Your session has ended: reload the page to log in again.");
        }
        if (!response.ok) {
          throw new Error("The figures could not be updated (" + response.status + "); retrying.");
        }
        return response.json();
      })
      .then(show)
      .catch(function (error) {
        status.textContent = error.message || "The figures could not be updated; retrying.";
      });
  }

  timer = window.setInterval(update, 5000);
  update();
}());
