/* Every route table admitd serves: one per area, each defined in its area's file and declared
 * in router.h. Add a new area's table here (before the NULL). Order does not matter: the most
 * specific pattern wins, and router_check refuses two routes for the same requests. */
#include "router.h"

/* One entry a line: a table to read down (clang-format would fill the lines). */
/* clang-format off */
const struct http_route *const http_route_tables[] = {
    health_routes,
    static_routes,
    public_routes,
    ticket_routes,
    api_routes,
    admin_routes,
    admin_device_routes,
    admin_question_routes,
    admin_organiser_routes,
    admin_password_routes,
    resend_routes,
    edit_routes,
    admin_edit_routes,
    privacy_routes,
    ticket_data_routes,
    paper_routes,
    NULL,
};
/* clang-format on */
