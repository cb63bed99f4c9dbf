-- CreateTable
CREATE TABLE `notifier_cursors` (
    `name` VARCHAR(32) NOT NULL,
    `last_message_id` BIGINT UNSIGNED NOT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `notification_settings` (
    `user_id` CHAR(10) NOT NULL,
    `digest_enabled` BOOLEAN NOT NULL DEFAULT false,
    `language` ENUM('zh', 'en') NOT NULL DEFAULT 'zh',
    `last_digest_at` DATETIME(3) NULL,
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`user_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `digest_entries` (
    `user_id` CHAR(10) NOT NULL,
    `message_id` BIGINT UNSIGNED NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`user_id`, `message_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `webhook_dead_letters` (
    `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    `endpoint` VARCHAR(64) NOT NULL,
    `event_id` VARCHAR(64) NOT NULL,
    `event_type` VARCHAR(64) NOT NULL,
    `payload` MEDIUMTEXT NOT NULL,
    `attempts` INTEGER UNSIGNED NOT NULL,
    `last_status` SMALLINT UNSIGNED NULL,
    `last_error` VARCHAR(255) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `replayed_at` DATETIME(3) NULL,

    INDEX `webhook_dead_letters_created_at_idx`(`created_at`),
    UNIQUE INDEX `webhook_dead_letters_endpoint_event_id_key`(`endpoint`, `event_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `notification_settings` ADD CONSTRAINT `notification_settings_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `digest_entries` ADD CONSTRAINT `digest_entries_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON DELETE CASCADE ON UPDATE CASCADE;
